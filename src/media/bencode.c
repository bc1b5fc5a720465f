/* bencode.c: see bencode.h. */
#include "media/bencode.h"

#include <errno.h>
#include <string.h>

/* An open list or dictionary while parsing. */
struct bencode_open {
	uint32_t idx;      /* its node */
	uint32_t children; /* child nodes so far (keys and values) */
};

static bool
bencode_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parses "i<digits>e" at buf[*pos] (an 'i') into n. */
static int
bencode_int_parse(const char *buf, size_t len, size_t *pos,
    struct bencode_node *n, const char **why)
{
	size_t p = *pos + 1, d, nd;
	bool neg = false;
	uint64_t u, max = (uint64_t)INT64_MAX;

	if (p < len && buf[p] == '-') {
		neg = true;
		max = (uint64_t)INT64_MAX + 1;
		p++;
	}
	d = p;
	while (p < len && bencode_is_digit(buf[p]))
		p++;
	nd = p - d;
	if (p >= len || buf[p] != 'e') {
		*why = "malformed integer";
		return EBADMSG;
	}
	if (nd == 0) {
		*why = "empty integer";
		return EBADMSG;
	}
	if (buf[d] == '0' && nd > 1) {
		*why = "leading zero in integer";
		return EBADMSG;
	}
	if (neg && buf[d] == '0') {
		*why = "negative zero";
		return EBADMSG;
	}
	if (util_u64_parse(buf + d, nd, max, &u) != 0) {
		*why = "integer out of range";
		return EBADMSG;
	}
	n->type = BENCODE_INT;
	if (!neg)
		n->i = (int64_t)u;
	else if (u == (uint64_t)INT64_MAX + 1)
		n->i = INT64_MIN;
	else
		n->i = -(int64_t)u;
	*pos = p + 1;
	return 0;
}

/* Parses "<len>:<bytes>" at buf[*pos] (a digit) into n. */
static int
bencode_str_parse(const char *buf, size_t len, size_t *pos,
    struct bencode_node *n, const char **why)
{
	size_t p = *pos, d = *pos, nd;
	uint64_t u;

	while (p < len && bencode_is_digit(buf[p]))
		p++;
	nd = p - d;
	if (p >= len || buf[p] != ':') {
		*why = "malformed string length";
		return EBADMSG;
	}
	if (buf[d] == '0' && nd > 1) {
		*why = "leading zero in string length";
		return EBADMSG;
	}
	p++; /* the ':' */
	if (util_u64_parse(buf + d, nd, len - p, &u) != 0) {
		*why = "string longer than the input";
		return EBADMSG;
	}
	n->type = BENCODE_STR;
	n->s.p = buf + p;
	n->s.len = (size_t)u;
	*pos = p + (size_t)u;
	return 0;
}

/* True when the dictionary at nodes[o->idx], whose last child node is the
 * key k, already has a key equal to k. Linear in the keys before k: a
 * datagram of 64 KiB with the most keys of the longest length costs about
 * 150 us. */
static bool
bencode_key_dup(const struct bencode_node *nodes, const struct bencode_open *o,
    const struct bencode_node *k)
{
	const struct bencode_node *c = &nodes[o->idx + 1];
	uint32_t i;

	/* children - 1 nodes come before k: (children - 1) / 2 pairs */
	for (i = 0; i < (o->children - 1) / 2; i++) {
		if (c->s.len == k->s.len &&
		    memcmp(c->s.p, k->s.p, k->s.len) == 0)
			return true;
		c += c->skip; /* the value */
		c += c->skip; /* the next key */
	}
	return false;
}

int
bencode_parse(const char *buf, size_t len, struct bencode_node *nodes,
    size_t nmax, size_t *nused, const char **why)
{
	struct bencode_open open[BENCODE_DEPTH_MAX];
	const char *dummy;
	size_t pos = 0;
	uint32_t n = 0, depth = 0;
	int err = 0;

	if (why == NULL)
		why = &dummy;
	*why = "invalid argument";
	if ((buf == NULL && len > 0) || nodes == NULL || nused == NULL)
		return EINVAL;
	if (buf == NULL)
		buf = ""; /* no arithmetic on a null pointer */
	if (nmax > UINT32_MAX)
		nmax = UINT32_MAX;

	for (;;) {
		struct bencode_open *top = depth > 0 ? &open[depth - 1] : NULL;
		struct bencode_node *node;
		bool want_key;

		if (top != NULL && pos < len && buf[pos] == 'e') {
			node = &nodes[top->idx];
			if (node->type == BENCODE_DICT && top->children % 2) {
				*why = "dictionary key without a value";
				err = EBADMSG;
				goto out;
			}
			node->len = node->type == BENCODE_DICT
			                ? top->children / 2
			                : top->children;
			node->skip = n - top->idx;
			pos++;
			node->raw.len = (size_t)(buf + pos - node->raw.p);
			depth--;
			if (depth == 0)
				break;
			continue;
		}
		if (pos >= len) {
			*why = depth > 0 ? "unterminated list or dictionary"
			                 : "empty input";
			err = EBADMSG;
			goto out;
		}
		want_key = top != NULL &&
		           nodes[top->idx].type == BENCODE_DICT &&
		           top->children % 2 == 0;
		if (want_key && !bencode_is_digit(buf[pos])) {
			*why = "dictionary key is not a string";
			err = EBADMSG;
			goto out;
		}
		if (n >= nmax) {
			*why = "too many values";
			err = EMSGSIZE;
			goto out;
		}
		node = &nodes[n];
		memset(node, 0, sizeof(*node));
		node->raw.p = buf + pos;
		node->skip = 1;
		switch (buf[pos]) {
		case 'i':
			err = bencode_int_parse(buf, len, &pos, node, why);
			break;
		case 'l':
		case 'd':
			if (depth == BENCODE_DEPTH_MAX) {
				*why = "nested too deep";
				err = EMSGSIZE;
				goto out;
			}
			node->type =
			    buf[pos] == 'l' ? BENCODE_LIST : BENCODE_DICT;
			pos++;
			break;
		default:
			if (!bencode_is_digit(buf[pos])) {
				*why = "not a bencoded value";
				err = EBADMSG;
				goto out;
			}
			err = bencode_str_parse(buf, len, &pos, node, why);
			break;
		}
		if (err != 0)
			goto out;
		n++;
		if (top != NULL) {
			top->children++;
			if (want_key && bencode_key_dup(nodes, top, node)) {
				*why = "duplicate dictionary key";
				err = EBADMSG;
				goto out;
			}
		}
		if (node->type == BENCODE_LIST || node->type == BENCODE_DICT) {
			open[depth].idx = n - 1;
			open[depth].children = 0;
			depth++;
			continue;
		}
		node->raw.len = (size_t)(buf + pos - node->raw.p);
		if (depth == 0)
			break;
	}
	if (pos != len) {
		*why = "bytes after the value";
		err = EBADMSG;
		goto out;
	}
	*nused = n;
	*why = NULL;
out:
	return err;
}

const struct bencode_node *
bencode_dict_getn(
    const struct bencode_node *dict, const char *key, size_t keylen)
{
	struct bencode_iter it;
	const struct bencode_node *k, *v;

	if (dict == NULL || dict->type != BENCODE_DICT ||
	    (key == NULL && keylen > 0))
		return NULL;
	bencode_iter_init(&it, dict);
	while (bencode_dict_next(&it, &k, &v)) {
		if (k->s.len == keylen &&
		    (keylen == 0 || memcmp(k->s.p, key, keylen) == 0))
			return v;
	}
	return NULL;
}

const struct bencode_node *
bencode_dict_get(const struct bencode_node *dict, const char *key)
{
	if (key == NULL)
		return NULL;
	return bencode_dict_getn(dict, key, strlen(key));
}

void
bencode_iter_init(struct bencode_iter *it, const struct bencode_node *c)
{
	it->next = NULL;
	it->left = 0;
	if (c != NULL && (c->type == BENCODE_LIST || c->type == BENCODE_DICT) &&
	    c->len > 0) {
		it->next = c + 1;
		it->left = c->len;
	}
}

const struct bencode_node *
bencode_list_next(struct bencode_iter *it)
{
	const struct bencode_node *n = it->next;

	if (it->left == 0)
		return NULL;
	it->left--;
	it->next = it->left > 0 ? n + n->skip : NULL;
	return n;
}

bool
bencode_dict_next(struct bencode_iter *it, const struct bencode_node **key,
    const struct bencode_node **val)
{
	const struct bencode_node *k = it->next;

	if (it->left == 0)
		return false;
	*key = k;
	*val = k + k->skip;
	it->left--;
	it->next = it->left > 0 ? *val + (*val)->skip : NULL;
	return true;
}

int
bencode_key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n > 0 ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

void
bencode_buf_init(struct bencode_buf *b, char *buf, size_t size)
{
	memset(b, 0, sizeof(*b));
	b->p = buf;
	b->size = buf != NULL ? size : 0;
}

/* Records the first failure; returns the sticky one. */
static int
bencode_fail(struct bencode_buf *b, int err)
{
	if (b->err == 0)
		b->err = err;
	return b->err;
}

static int
bencode_bytes_put(struct bencode_buf *b, const char *p, size_t n)
{
	if (n > b->size - b->len)
		return bencode_fail(b, EMSGSIZE);
	if (n > 0)
		memmove(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static int
bencode_u64_put(struct bencode_buf *b, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return bencode_bytes_put(b, tmp + i, sizeof(tmp) - i);
}

/* Checks that a value may start here. */
static int
bencode_value_begin(struct bencode_buf *b)
{
	const struct bencode_frame *f;

	if (b->err != 0)
		return b->err;
	if (b->depth == 0)
		return b->done ? bencode_fail(b, EINVAL) : 0;
	f = &b->frame[b->depth - 1];
	if (f->dict && !f->want_value)
		return bencode_fail(b, EINVAL); /* a key is due */
	return 0;
}

/* Notes that a value is complete. */
static void
bencode_value_end(struct bencode_buf *b)
{
	if (b->depth == 0)
		b->done = true;
	else
		b->frame[b->depth - 1].want_value = false;
}

int
bencode_put_str(struct bencode_buf *b, const char *p, size_t len)
{
	int err;

	if ((err = bencode_value_begin(b)) != 0)
		return err;
	if (p == NULL && len > 0)
		return bencode_fail(b, EINVAL);
	if (bencode_u64_put(b, len) != 0 || bencode_bytes_put(b, ":", 1) != 0 ||
	    bencode_bytes_put(b, p, len) != 0)
		return b->err;
	bencode_value_end(b);
	return 0;
}

int
bencode_put_cstr(struct bencode_buf *b, const char *s)
{
	if (s == NULL)
		return bencode_fail(b, EINVAL);
	return bencode_put_str(b, s, strlen(s));
}

int
bencode_put_int(struct bencode_buf *b, int64_t v)
{
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int err;

	if ((err = bencode_value_begin(b)) != 0)
		return err;
	if (bencode_bytes_put(b, "i", 1) != 0 ||
	    (v < 0 && bencode_bytes_put(b, "-", 1) != 0) ||
	    bencode_u64_put(b, mag) != 0 || bencode_bytes_put(b, "e", 1) != 0)
		return b->err;
	bencode_value_end(b);
	return 0;
}

static int
bencode_open_put(struct bencode_buf *b, bool dict)
{
	int err;

	if ((err = bencode_value_begin(b)) != 0)
		return err;
	if (b->depth == BENCODE_DEPTH_MAX)
		return bencode_fail(b, EINVAL);
	if (bencode_bytes_put(b, dict ? "d" : "l", 1) != 0)
		return b->err;
	memset(&b->frame[b->depth], 0, sizeof(b->frame[0]));
	b->frame[b->depth].dict = dict;
	b->depth++;
	return 0;
}

int
bencode_put_list(struct bencode_buf *b)
{
	return bencode_open_put(b, false);
}

int
bencode_put_dict(struct bencode_buf *b)
{
	return bencode_open_put(b, true);
}

int
bencode_put_end(struct bencode_buf *b)
{
	const struct bencode_frame *f;

	if (b->err != 0)
		return b->err;
	if (b->depth == 0)
		return bencode_fail(b, EINVAL);
	f = &b->frame[b->depth - 1];
	if (f->dict && f->want_value)
		return bencode_fail(b, EINVAL);
	if (bencode_bytes_put(b, "e", 1) != 0)
		return b->err;
	b->depth--;
	bencode_value_end(b);
	return 0;
}

int
bencode_put_keyn(struct bencode_buf *b, const char *key, size_t keylen)
{
	struct bencode_frame *f;
	size_t off;

	if (b->err != 0)
		return b->err;
	if (b->depth == 0 || (key == NULL && keylen > 0))
		return bencode_fail(b, EINVAL);
	f = &b->frame[b->depth - 1];
	if (!f->dict || f->want_value)
		return bencode_fail(b, EINVAL);
	if (f->has_key &&
	    bencode_key_cmp(b->p + f->key_off, f->key_len, key, keylen) >= 0)
		return bencode_fail(b, EINVAL);
	if (bencode_u64_put(b, keylen) != 0 ||
	    bencode_bytes_put(b, ":", 1) != 0)
		return b->err;
	off = b->len;
	if (bencode_bytes_put(b, key, keylen) != 0)
		return b->err;
	f->key_off = off;
	f->key_len = keylen;
	f->has_key = true;
	f->want_value = true;
	return 0;
}

int
bencode_put_key(struct bencode_buf *b, const char *key)
{
	if (key == NULL)
		return bencode_fail(b, EINVAL);
	return bencode_put_keyn(b, key, strlen(key));
}

int
bencode_put_kv_str(
    struct bencode_buf *b, const char *key, const char *p, size_t len)
{
	int err;

	if ((err = bencode_put_key(b, key)) != 0)
		return err;
	return bencode_put_str(b, p, len);
}

int
bencode_put_kv_cstr(struct bencode_buf *b, const char *key, const char *s)
{
	int err;

	if ((err = bencode_put_key(b, key)) != 0)
		return err;
	return bencode_put_cstr(b, s);
}

int
bencode_put_kv_int(struct bencode_buf *b, const char *key, int64_t v)
{
	int err;

	if ((err = bencode_put_key(b, key)) != 0)
		return err;
	return bencode_put_int(b, v);
}

int
bencode_buf_finish(struct bencode_buf *b, size_t *len)
{
	if (b->err != 0)
		return b->err;
	if (!b->done)
		return bencode_fail(b, EINVAL);
	*len = b->len;
	return 0;
}
