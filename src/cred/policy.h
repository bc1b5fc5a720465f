/* policy.h: SIP extension passwords: the generator and the policy that a
 * password supplied by an operator (`ext add ... --password-stdin`) must pass.
 *
 * Uniqueness across extensions and reuse of old passwords are checked by the
 * store (keyed hashes), not here. Nothing here logs or echoes a password. */
#ifndef SW_CRED_POLICY_H
#define SW_CRED_POLICY_H

#include <stddef.h>

enum { CRED_PW_GEN_LEN = 20, CRED_PW_MIN_LEN = 12, CRED_PW_MAX_LEN = 128 };

enum {
	/* zxcvbn must estimate at least 10^CRED_PW_MIN_GUESSES_LOG10 guesses */
	CRED_PW_MIN_GUESSES_LOG10 = 10,
	/* extension numbers shorter than this are not looked for */
	CRED_PW_EXT_MIN_LEN = 3,
	/* the whole tenant name or domain is looked for from this length on */
	CRED_PW_NAME_MIN_LEN = 3,
	/* parts of the tenant name (split on '-') and domain labels */
	CRED_PW_PART_MIN_LEN = 4,
	/* a sequence, walk or repeat covering this share (in percent) of the
	 * password, less up to CRED_PW_EDGE_SKIP characters at each end,
	 * refuses it */
	CRED_PW_PATTERN_PCT = 60,
	CRED_PW_EDGE_SKIP = 2,
	/* the generators draw at most this many times */
	CRED_PW_GEN_TRIES = 32,
	/* enough for any cred_password_reason text */
	CRED_PW_REASON_MAX = 128,
};

/* Fills out with CRED_PW_GEN_LEN characters and a NUL, drawn with libsodium's
 * randombytes_uniform (no modulo bias) from the 55 letters and digits that
 * have no look-alike (no 0 O o 1 l I i): about 115 bits. A draw that fails
 * cred_password_check without context (about one in 10,000,000 looks like a
 * keyboard walk) is drawn again, up to CRED_PW_GEN_TRIES times. size must be
 * more than CRED_PW_GEN_LEN; when it is not, out gets the empty string
 * (which the policy refuses) if size > 0. sodium_init() is the caller's
 * job. */
void cred_password_generate(char *out, size_t size);

struct cred_pw_context {
	const char *extension; /* "1001" */
	const char *tenant;    /* "acme-corp" */
	const char *domain;    /* "acme.example.com" */
}; /* NUL-terminated strings; any may be NULL or empty */

/* Like cred_password_generate, but draws again until the password passes
 * cred_password_check with ctx (a random password can, rarely, contain the
 * tenant name in leet). Returns 0, EINVAL when size <= CRED_PW_GEN_LEN, or
 * EAGAIN after CRED_PW_GEN_TRIES refused draws; out is wiped on failure. */
int cred_password_generate_checked(
    const struct cred_pw_context *ctx, char *out, size_t size);

enum cred_pw_verdict {
	CRED_PW_OK,
	CRED_PW_TOO_SHORT,
	CRED_PW_TOO_LONG,
	CRED_PW_BAD_CHAR,
	CRED_PW_EDGE_SPACE,
	CRED_PW_HAS_EXTENSION,
	CRED_PW_HAS_TENANT,
	CRED_PW_HAS_DOMAIN,
	CRED_PW_SEQUENCE,
	CRED_PW_KEYBOARD_WALK,
	CRED_PW_REPEATED,
	CRED_PW_WEAK
};

/* Checks the len bytes at pw (any bytes; no NUL needed; pw may be NULL when
 * len is 0) against the policy, rules in this order:
 *  1. CRED_PW_MIN_LEN..CRED_PW_MAX_LEN bytes (TOO_SHORT, TOO_LONG);
 *  2. printable ASCII 0x20..0x7e only (BAD_CHAR), no leading or trailing
 *     space (EDGE_SPACE);
 *  3. not the extension number, forwards or reversed (HAS_EXTENSION);
 *  4. not the tenant name, its '-' parts, the domain or its labels, any case,
 *     forwards or reversed, also in leet (4cm3 for acme) (HAS_TENANT,
 *     HAS_DOMAIN);
 *  5. not mostly a sequence (SEQUENCE), keyboard walk (KEYBOARD_WALK) or
 *     repeated pattern (REPEATED);
 *  6. zxcvbn, given the context as user words, estimates at least
 *     10^CRED_PW_MIN_GUESSES_LOG10 guesses (WEAK).
 * ctx may be NULL. */
enum cred_pw_verdict cred_password_check(
    const char *pw, size_t len, const struct cred_pw_context *ctx);

/* A sentence for the operator ("too short: at least 12 characters"); static
 * storage. For CRED_PW_WEAK it names the threshold only; the estimate is in
 * cred_password_reason. */
const char *cred_pw_verdict_str(enum cred_pw_verdict v);

/* Checks pw as cred_password_check does and writes the reason into buf
 * ("too easy to guess: about 10^7 guesses, at least 10^10 needed"), never any
 * part of the password. Returns buf, or the static cred_pw_verdict_str text
 * when buf is NULL or size is 0. CRED_PW_REASON_MAX bytes are always
 * enough. */
const char *cred_password_reason(const char *pw, size_t len,
    const struct cred_pw_context *ctx, char *buf, size_t size);

/* zxcvbn's estimate of the guesses needed for pw, as log10, with the context
 * as user words. Returns 0 and sets *log10p, or EINVAL when pw holds a NUL
 * byte or is longer than CRED_PW_MAX_LEN. */
int cred_password_estimate(const char *pw, size_t len,
    const struct cred_pw_context *ctx, double *log10p);

#endif
