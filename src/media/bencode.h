/* bencode.h: bencoding (the BitTorrent encoding that rtpengine's "ng"
 * control protocol carries): a parser into a caller-provided node array and
 * a builder into a caller-provided buffer. Pure functions: no I/O, no
 * logging, no globals, no allocation.
 *
 * Values: byte strings "<len>:<bytes>", integers "i<digits>e", lists
 * "l<values>e" and dictionaries "d<key><value>...e" whose keys are strings.
 *
 * The parser is strict about the encoding and lenient about key order:
 * - it rejects leading zeros in integers and string lengths ("i03e",
 *   "03:abc"), "i-0e", an empty integer, integers outside int64_t, strings
 *   longer than what is left of the input, a dictionary key that is not a
 *   string, a key without a value, an unterminated list or dictionary, and
 *   any byte after the one top-level value;
 * - it accepts dictionary keys in any order (rtpengine's clients, Kamailio
 *   and OpenSIPS, send them unsorted, and rtpengine documents that it does
 *   not require the order), but refuses a key that appears twice in one
 *   dictionary: peers disagree on which copy wins (rtpengine takes the
 *   last), so such a message means two things and is malformed here.
 *
 * The builder writes canonical bencoding: the caller adds dictionary keys
 * in ascending byte order (bencode_key_cmp) and the builder checks it. */
#ifndef SW_BENCODE_H
#define SW_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

enum {
	BENCODE_DEPTH_MAX = 16,  /* nested lists and dictionaries */
	BENCODE_NODES_MAX = 512, /* nodes of one parsed message (keys count) */
};

enum bencode_type {
	BENCODE_STR = 1, /* a byte string; also every dictionary key */
	BENCODE_INT,
	BENCODE_LIST,
	BENCODE_DICT
};

/* One parsed value. The nodes of a value follow it in the array, depth
 * first: a list's items, a dictionary's key and value nodes alternating. */
struct bencode_node {
	enum bencode_type type;
	uint32_t len;  /* BENCODE_LIST: items; BENCODE_DICT: key/value pairs */
	uint32_t skip; /* nodes in this value, itself included: the next
	                  sibling is this + skip */
	struct sv s;   /* BENCODE_STR: the bytes (a view into the input) */
	int64_t i;     /* BENCODE_INT: the value */
	struct sv raw; /* the whole encoded value, as it is in the input */
};

/* Parses all of [buf, buf+len) as one bencoded value into nodes (room for
 * nmax; the root is nodes[0]) and sets *nused. Views point into buf, which
 * must outlive them. Returns 0; EBADMSG when malformed (see above); EMSGSIZE
 * past BENCODE_DEPTH_MAX or nmax nodes; EINVAL on NULL. On failure *why
 * (when why is not NULL) is set to a short static reason, and nodes and
 * *nused are unspecified. */
int bencode_parse(const char *buf, size_t len, struct bencode_node *nodes,
    size_t nmax, size_t *nused, const char **why);

/* The value of key (keylen bytes) in dict, or NULL when dict is not a
 * dictionary or has no such key. Linear in the size of dict. */
const struct bencode_node *bencode_dict_getn(
    const struct bencode_node *dict, const char *key, size_t keylen);
/* The same, for a NUL-terminated key. */
const struct bencode_node *bencode_dict_get(
    const struct bencode_node *dict, const char *key);

/* A cursor over the children of a list or dictionary. */
struct bencode_iter {
	const struct bencode_node *next; /* the next child */
	uint32_t left;                   /* items (list) or pairs (dict) */
};

/* Starts iterating c; a node that is neither a list nor a dictionary
 * yields nothing. */
void bencode_iter_init(struct bencode_iter *it, const struct bencode_node *c);
/* The next item of a list, or NULL at the end. */
const struct bencode_node *bencode_list_next(struct bencode_iter *it);
/* The next pair of a dictionary into *key (a BENCODE_STR node) and *val,
 * in the order of the input. Returns false at the end. */
bool bencode_dict_next(struct bencode_iter *it, const struct bencode_node **key,
    const struct bencode_node **val);

/* The order of dictionary keys in canonical bencoding: bytes compared as
 * unsigned, a prefix first. Returns <0, 0 or >0 like memcmp. */
int bencode_key_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* One open list or dictionary of a builder. */
struct bencode_frame {
	bool dict;
	bool want_value; /* dict: a key was written, its value is next */
	bool has_key;    /* dict: a key was written before (key_off valid) */
	size_t key_off, key_len; /* dict: the last key, within the buffer */
};

/* A builder; fill it with bencode_buf_init. The first failure is sticky:
 * later calls do nothing and return it, so a caller may check only the
 * result of bencode_buf_finish. */
struct bencode_buf {
	char *p;
	size_t size, len; /* p holds size bytes; len are written */
	int err;          /* 0 or the first failure */
	unsigned depth;   /* open lists and dictionaries */
	bool done;        /* the top-level value is complete */
	struct bencode_frame frame[BENCODE_DEPTH_MAX];
};

/* Starts writing into buf (size bytes; the output is not NUL-terminated). */
void bencode_buf_init(struct bencode_buf *b, char *buf, size_t size);

/* Each of these writes one item and returns 0 or the sticky failure:
 * EMSGSIZE when buf is too small; EINVAL when the item is not allowed
 * where it goes: a dictionary key outside a dictionary, where a value is
 * due, or not strictly after the previous key (bencode_key_cmp); a value in
 * a dictionary where a key is due; a second top-level value; an end with
 * nothing open; nesting past BENCODE_DEPTH_MAX; NULL bytes with len > 0. */
int bencode_put_str(struct bencode_buf *b, const char *p, size_t len);
int bencode_put_cstr(struct bencode_buf *b, const char *s);
int bencode_put_int(struct bencode_buf *b, int64_t v);
int bencode_put_list(struct bencode_buf *b); /* opens a list */
int bencode_put_dict(struct bencode_buf *b); /* opens a dictionary */
int bencode_put_end(struct bencode_buf *b);  /* closes the innermost */
int bencode_put_keyn(struct bencode_buf *b, const char *key, size_t keylen);
int bencode_put_key(struct bencode_buf *b, const char *key);

/* A key and its value in one call. */
int bencode_put_kv_str(
    struct bencode_buf *b, const char *key, const char *p, size_t len);
int bencode_put_kv_cstr(struct bencode_buf *b, const char *key, const char *s);
int bencode_put_kv_int(struct bencode_buf *b, const char *key, int64_t v);

/* Checks that exactly one complete value was written and sets *len to its
 * size. Returns 0, the sticky failure, or EINVAL (nothing written, or a
 * list or dictionary left open, or a key left without a value). */
int bencode_buf_finish(struct bencode_buf *b, size_t *len);

#endif
