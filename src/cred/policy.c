/* policy.c: see policy.h. The password is untrusted bytes plus a length; it
 * is copied only into a stack buffer for zxcvbn, wiped afterwards. */
#include "cred/policy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>
#include <zxcvbn.h>

#include "lib/util.h"

/* Letters and digits without the look-alikes 0 O o 1 l I i: 24 + 23 + 8. */
static const char pw_alphabet[] =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";

/* log10(2): zxcvbn reports bits; the policy speaks of guesses. */
#define PW_LOG10_2 0.30102999566398119521

enum {
	PW_NAME_BUF = 256, /* tenant or domain copied to split it for zxcvbn */
	PW_DICT_MAX = 24,  /* user words handed to zxcvbn, NULL included */
	PW_WALK_MIN = 3,   /* shortest keyboard walk segment worth chaining */
};

void
cred_password_generate(char *out, size_t size)
{
	int t;
	size_t i;

	if (out == NULL || size == 0)
		return;
	if (size <= CRED_PW_GEN_LEN) {
		out[0] = '\0';
		return;
	}
	for (t = 0; t < CRED_PW_GEN_TRIES; t++) {
		for (i = 0; i < CRED_PW_GEN_LEN; i++)
			out[i] = pw_alphabet[randombytes_uniform(
			    (uint32_t)(sizeof(pw_alphabet) - 1))];
		out[CRED_PW_GEN_LEN] = '\0';
		/* about one draw in 10,000,000 wanders across the keyboard
		 * long enough to count as a walk: draw again */
		if (cred_password_check(out, CRED_PW_GEN_LEN, NULL) ==
		    CRED_PW_OK)
			break;
	}
}

int
cred_password_generate_checked(
    const struct cred_pw_context *ctx, char *out, size_t size)
{
	int i;

	if (out == NULL || size <= CRED_PW_GEN_LEN)
		return EINVAL;
	for (i = 0; i < CRED_PW_GEN_TRIES; i++) {
		cred_password_generate(out, size);
		if (cred_password_check(out, CRED_PW_GEN_LEN, ctx) ==
		    CRED_PW_OK)
			return 0;
	}
	sodium_memzero(out, size);
	return EAGAIN;
}

static unsigned char
pw_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* True when the password byte p stands for the target byte t: the same
 * letter in any case, or a common leet stand-in for it (1 for l and i). */
static bool
pw_char_stands_for(unsigned char p, unsigned char t, bool leet)
{
	p = pw_lower(p);
	t = pw_lower(t);
	if (p == t)
		return true;
	if (!leet)
		return false;
	switch (p) {
	case '0':
		return t == 'o';
	case '1':
		return t == 'l' || t == 'i';
	case '3':
		return t == 'e';
	case '4':
	case '@':
		return t == 'a';
	case '5':
	case '$':
		return t == 's';
	case '7':
	case '+':
		return t == 't';
	case '8':
		return t == 'b';
	case '9':
		return t == 'g';
	case '!':
		return t == 'i';
	case '|':
		return t == 'l';
	default:
		return false;
	}
}

/* True when the n bytes at pw contain the m bytes at t, forwards or
 * reversed, compared with pw_char_stands_for. */
static bool
pw_contains(
    const unsigned char *pw, size_t n, const char *t, size_t m, bool leet)
{
	const unsigned char *tu = (const unsigned char *)t;
	size_t i, j;

	if (m == 0 || m > n)
		return false;
	for (i = 0; i + m <= n; i++) {
		for (j = 0; j < m; j++)
			if (!pw_char_stands_for(pw[i + j], tu[j], leet))
				break;
		if (j == m)
			return true;
		for (j = 0; j < m; j++)
			if (!pw_char_stands_for(pw[i + j], tu[m - 1 - j], leet))
				break;
		if (j == m)
			return true;
	}
	return false;
}

/* True when pw contains the name s (leet allowed) when s is at least
 * CRED_PW_NAME_MIN_LEN long, or one of its parts between sep bytes that is
 * at least CRED_PW_PART_MIN_LEN long. With skip_last, the last part is not
 * looked at on its own (a domain's top-level label). */
static bool
pw_contains_name(
    const unsigned char *pw, size_t n, const char *s, char sep, bool skip_last)
{
	size_t len, start, i;

	if (s == NULL)
		return false;
	len = strlen(s);
	if (len >= CRED_PW_NAME_MIN_LEN && pw_contains(pw, n, s, len, true))
		return true;
	start = 0;
	for (i = 0; i <= len; i++) {
		size_t plen;

		if (i < len && s[i] != sep)
			continue;
		plen = i - start;
		if (!(skip_last && i == len) && plen >= CRED_PW_PART_MIN_LEN &&
		    pw_contains(pw, n, s + start, plen, true))
			return true;
		start = i + 1;
	}
	return false;
}

/* Rules 3 and 4. */
static enum cred_pw_verdict
pw_names_check(
    const unsigned char *pw, size_t n, const struct cred_pw_context *ctx)
{
	if (ctx == NULL)
		return CRED_PW_OK;
	if (ctx->extension != NULL) {
		size_t len = strlen(ctx->extension);

		if (len >= CRED_PW_EXT_MIN_LEN &&
		    pw_contains(pw, n, ctx->extension, len, false))
			return CRED_PW_HAS_EXTENSION;
	}
	if (pw_contains_name(pw, n, ctx->tenant, '-', false))
		return CRED_PW_HAS_TENANT;
	if (pw_contains_name(pw, n, ctx->domain, '.', true))
		return CRED_PW_HAS_DOMAIN;
	return CRED_PW_OK;
}

/* True when a pattern over [b, b+len) covers CRED_PW_PATTERN_PCT percent of
 * the n-byte password once up to CRED_PW_EDGE_SKIP bytes before and after it
 * are set aside (so "X!qwertyuiop" counts as a walk). */
static bool
pw_pattern_covers(size_t n, size_t b, size_t len)
{
	size_t after, lead, trail, core;

	if (len == 0 || b > n || len > n - b)
		return false;
	after = n - b - len;
	lead = b < CRED_PW_EDGE_SKIP ? b : CRED_PW_EDGE_SKIP;
	trail = after < CRED_PW_EDGE_SKIP ? after : CRED_PW_EDGE_SKIP;
	core = n - lead - trail;
	return len * 100 >= core * CRED_PW_PATTERN_PCT;
}

/* +1 or -1 when b follows or precedes a by one letter (any case) or digit
 * (9 -> 0 wraps, as on the keyboard's digit row); 0 otherwise. */
static int
pw_seq_step(unsigned char a, unsigned char b)
{
	a = pw_lower(a);
	b = pw_lower(b);
	if (a >= 'a' && a <= 'z' && b >= 'a' && b <= 'z') {
		if (b == a + 1)
			return 1;
		if (a == b + 1)
			return -1;
		return 0;
	}
	if (a >= '0' && a <= '9' && b >= '0' && b <= '9') {
		int d = ((b - '0') - (a - '0') + 10) % 10;

		return d == 1 ? 1 : d == 9 ? -1 : 0;
	}
	return 0;
}

/* True when one ascending or descending run covers the password. */
static bool
pw_has_sequence(const unsigned char *pw, size_t n)
{
	size_t i = 0;

	while (i + 1 < n) {
		int step = pw_seq_step(pw[i], pw[i + 1]);
		size_t j = i + 1;

		if (step == 0) {
			i++;
			continue;
		}
		while (j + 1 < n && pw_seq_step(pw[j], pw[j + 1]) == step)
			j++;
		if (pw_pattern_covers(n, i, j - i + 1))
			return true;
		i = j; /* the last character may start a run the other way */
	}
	return false;
}

/* US QWERTY, unshifted and shifted. Rows are staggered half a key each, as
 * zxcvbn's adjacency graph has them: in units of half a key, row r's first
 * key sits at pw_kb_x0[r], and keys are 2 units wide. */
static const char *const pw_kb_rows[2][4] = {
    {"`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./"},
    {"~!@#$%^&*()_+", "QWERTYUIOP{}|", "ASDFGHJKL:\"", "ZXCVBNM<>?"},
};
static const int pw_kb_x0[4] = {0, 3, 4, 5};

struct pw_key {
	int row, x;
};

/* Finds c on the keyboard; false for a byte that is not on it (space). */
static bool
pw_kb_locate(unsigned char c, struct pw_key *k)
{
	size_t s, r;

	if (c == 0)
		return false;
	for (s = 0; s < 2; s++)
		for (r = 0; r < 4; r++) {
			const char *p = strchr(pw_kb_rows[s][r], c);

			if (p != NULL) {
				k->row = (int)r;
				k->x = pw_kb_x0[r] +
				       2 * (int)(p - pw_kb_rows[s][r]);
				return true;
			}
		}
	return false;
}

/* True when a and b are neighbouring keys (not the same key); then *dr and
 * *dx hold the step from a to b, in rows and half keys. */
static bool
pw_kb_step(unsigned char a, unsigned char b, int *dr, int *dx)
{
	struct pw_key ka, kb;

	if (!pw_kb_locate(a, &ka) || !pw_kb_locate(b, &kb))
		return false;
	*dr = kb.row - ka.row;
	*dx = kb.x - ka.x;
	if (*dr == 0)
		return *dx == 2 || *dx == -2;
	return (*dr == 1 || *dr == -1) && (*dx == 1 || *dx == -1);
}

static bool
pw_kb_adjacent(unsigned char a, unsigned char b)
{
	int dr, dx;

	return pw_kb_step(a, b, &dr, &dx);
}

/* True when a and b are on the same key (s and S). */
static bool
pw_kb_same(unsigned char a, unsigned char b)
{
	struct pw_key ka, kb;

	return pw_kb_locate(a, &ka) && pw_kb_locate(b, &kb) &&
	       ka.row == kb.row && ka.x == kb.x;
}

/* True when the walks at a and b (alen and blen keys, both runs of
 * neighbours) take the same steps, over the length of the shorter. */
static bool
pw_kb_same_shape(
    const unsigned char *pw, size_t a, size_t alen, size_t b, size_t blen)
{
	size_t m = alen < blen ? alen : blen, k;

	for (k = 0; k + 1 < m; k++) {
		int ar, ax, br, bx;

		if (!pw_kb_step(pw[a + k], pw[a + k + 1], &ar, &ax) ||
		    !pw_kb_step(pw[b + k], pw[b + k + 1], &br, &bx) ||
		    ar != br || ax != bx)
			return false;
	}
	return true;
}

/* True when one keyboard walk covers the password. A walk is a run of
 * neighbouring keys (qwerty, zaq12wsx), or a chain of runs of at least
 * PW_WALK_MIN keys, each the one before moved over by one key: the same
 * steps, starting next to where the one before started (1qaz2wsx3edc,
 * qazwsx, qwerasdfzxcv). Requiring the same steps, and no step straight
 * back, keeps random passwords out: short runs of neighbours are common in
 * them (one generated password in 10,000,000 still has a walk). */
static bool
pw_has_walk(const unsigned char *pw, size_t n)
{
	size_t i = 0, chain = 0, prev = 0, prev_end = 0;
	bool in_chain = false;

	while (i < n) {
		size_t e = i + 1;

		/* a step straight back (gtg) ends the run: people walk
		 * across the keyboard, random strings wander around a key */
		while (e < n && pw_kb_adjacent(pw[e - 1], pw[e]) &&
		       !(e - i >= 2 && pw_kb_same(pw[e - 2], pw[e])))
			e++;
		if (e - i < PW_WALK_MIN) {
			in_chain = false;
		} else {
			if (!in_chain || prev_end != i ||
			    !pw_kb_adjacent(pw[prev], pw[i]) ||
			    !pw_kb_same_shape(
			        pw, prev, prev_end - prev, i, e - i))
				chain = i;
			in_chain = true;
			prev = i;
			prev_end = e;
			if (pw_pattern_covers(n, chain, e - chain))
				return true;
		}
		i = e;
	}
	return false;
}

/* True when a unit repeated at least twice (aaaa, abcabc, passpass) covers
 * the password. Case counts: "monkeyMONKEY" is left to zxcvbn, because
 * ignoring case makes chance repeats in random passwords some 20 times
 * likelier (nQbZn then nqBZN). */
static bool
pw_has_repeat(const unsigned char *pw, size_t n)
{
	size_t p, i;

	for (p = 1; p <= n / 2; p++) {
		i = 0;
		while (i + p < n) {
			size_t j = i;

			while (j + p < n && pw[j] == pw[j + p])
				j++;
			if (j == i) {
				i++;
				continue;
			}
			/* [i, j + p) repeats with period p */
			if (j - i >= p && pw_pattern_covers(n, i, j - i + p))
				return true;
			i = j;
		}
	}
	return false;
}

/* Runs zxcvbn on the n bytes at pw (no NUL among them, n at most
 * CRED_PW_MAX_LEN) with the context as user words. Returns the entropy in
 * bits. */
static double
pw_zxcvbn(const char *pw, size_t n, const struct cred_pw_context *ctx)
{
	char buf[CRED_PW_MAX_LEN + 1];
	char names[2][PW_NAME_BUF];
	const char *words[PW_DICT_MAX];
	size_t nw = 0, k, i;
	double bits;

	if (ctx != NULL) {
		const char *full[3] = {
		    ctx->extension, ctx->tenant, ctx->domain};

		for (k = 0; k < ARRAY_LEN(full); k++)
			if (full[k] != NULL && full[k][0] != '\0')
				words[nw++] = full[k];
		/* the tenant's '-' parts and the domain's labels, split in a
		 * copy; names too long for the copy are left whole */
		for (k = 0; k < 2; k++) {
			const char *s = k == 0 ? ctx->tenant : ctx->domain;
			char sep = k == 0 ? '-' : '.';
			size_t len, start = 0;

			if (s == NULL || (len = strlen(s)) >= PW_NAME_BUF ||
			    memchr(s, sep, len) == NULL)
				continue;
			memcpy(names[k], s, len + 1);
			for (i = 0; i <= len && nw < PW_DICT_MAX - 1; i++) {
				if (i < len && names[k][i] != sep)
					continue;
				names[k][i] = '\0';
				if (i - start >= CRED_PW_NAME_MIN_LEN)
					words[nw++] = names[k] + start;
				start = i + 1;
			}
		}
	}
	words[nw] = NULL;

	memcpy(buf, pw, n);
	buf[n] = '\0';
	bits = ZxcvbnMatch(buf, words, NULL);
	sodium_memzero(buf, sizeof(buf));
	if (!(bits >= 0.0)) /* NaN or negative: no strength at all */
		bits = 0.0;
	return bits;
}

/* The whole policy. Sets *log10p to zxcvbn's estimate when it got that
 * far, to -1 otherwise. */
static enum cred_pw_verdict
pw_evaluate(const char *pw, size_t len, const struct cred_pw_context *ctx,
    double *log10p)
{
	const unsigned char *u = (const unsigned char *)pw;
	enum cred_pw_verdict v;
	size_t i;

	*log10p = -1.0;
	if (pw == NULL || len < CRED_PW_MIN_LEN)
		return CRED_PW_TOO_SHORT;
	if (len > CRED_PW_MAX_LEN)
		return CRED_PW_TOO_LONG;
	for (i = 0; i < len; i++)
		if (u[i] < 0x20 || u[i] > 0x7e)
			return CRED_PW_BAD_CHAR;
	if (u[0] == ' ' || u[len - 1] == ' ')
		return CRED_PW_EDGE_SPACE;
	if ((v = pw_names_check(u, len, ctx)) != CRED_PW_OK)
		return v;
	/* Rule 5 uses our own detectors, not zxcvbn's match list: that list
	 * holds only the cheapest explanation ("1qaz2wsx" is a dictionary
	 * word there, so 1QAZ@WSX#EDC passed), and its spatial matches include
	 * Dvorak and keypad paths with turns, which refused about one random
	 * 12-character password in 1,300, against one in 3,500 for ours
	 * (test_random_users in tests/unit/policy_test.c). */
	if (pw_has_sequence(u, len))
		return CRED_PW_SEQUENCE;
	if (pw_has_walk(u, len))
		return CRED_PW_KEYBOARD_WALK;
	if (pw_has_repeat(u, len))
		return CRED_PW_REPEATED;
	*log10p = pw_zxcvbn(pw, len, ctx) * PW_LOG10_2;
	if (*log10p < CRED_PW_MIN_GUESSES_LOG10)
		return CRED_PW_WEAK;
	return CRED_PW_OK;
}

enum cred_pw_verdict
cred_password_check(
    const char *pw, size_t len, const struct cred_pw_context *ctx)
{
	double lg;

	return pw_evaluate(pw, len, ctx, &lg);
}

/* The sentences below spell these numbers out. */
_Static_assert(CRED_PW_MIN_LEN == 12 && CRED_PW_MAX_LEN == 128 &&
                   CRED_PW_MIN_GUESSES_LOG10 == 10,
    "update cred_pw_verdict_str");

const char *
cred_pw_verdict_str(enum cred_pw_verdict v)
{
	switch (v) {
	case CRED_PW_OK:
		return "acceptable";
	case CRED_PW_TOO_SHORT:
		return "too short: at least 12 characters";
	case CRED_PW_TOO_LONG:
		return "too long: at most 128 characters";
	case CRED_PW_BAD_CHAR:
		return "bad character: only printable ASCII (letters, digits, "
		       "symbols, space)";
	case CRED_PW_EDGE_SPACE:
		return "starts or ends with a space";
	case CRED_PW_HAS_EXTENSION:
		return "contains the extension number";
	case CRED_PW_HAS_TENANT:
		return "contains the tenant name";
	case CRED_PW_HAS_DOMAIN:
		return "contains the domain name";
	case CRED_PW_SEQUENCE:
		return "mostly a sequence (like abcdef or 98765)";
	case CRED_PW_KEYBOARD_WALK:
		return "mostly a keyboard pattern (like qwerty or 1qaz2wsx)";
	case CRED_PW_REPEATED:
		return "mostly a repeated character or pattern";
	case CRED_PW_WEAK:
		return "too easy to guess: at least 10^10 guesses needed";
	}
	return "unknown verdict";
}

const char *
cred_password_reason(const char *pw, size_t len,
    const struct cred_pw_context *ctx, char *buf, size_t size)
{
	enum cred_pw_verdict v;
	double lg;
	int est;

	v = pw_evaluate(pw, len, ctx, &lg);
	if (buf == NULL || size == 0)
		return cred_pw_verdict_str(v);
	if (v != CRED_PW_WEAK) {
		snprintf(buf, size, "%s", cred_pw_verdict_str(v));
		return buf;
	}
	/* rounded down, so the estimate never reaches the threshold */
	est = lg < 0.0 ? 0 : lg > 999.0 ? 999 : (int)lg;
	snprintf(buf, size,
	    "too easy to guess: about 10^%d guesses, at least 10^%d needed",
	    est, CRED_PW_MIN_GUESSES_LOG10);
	return buf;
}

int
cred_password_estimate(const char *pw, size_t len,
    const struct cred_pw_context *ctx, double *log10p)
{
	if ((pw == NULL && len != 0) || len > CRED_PW_MAX_LEN ||
	    (len != 0 && memchr(pw, '\0', len) != NULL))
		return EINVAL;
	*log10p = pw_zxcvbn(len != 0 ? pw : "", len, ctx) * PW_LOG10_2;
	return 0;
}
