/* fuzz_ng.c: libFuzzer target for the rtpengine "ng" codec
 * (src/media/ng.c, src/media/bencode.c).
 *
 * The input is parsed as an ng request. When it parses, every view must lie
 * in the input and every list within its limit; an error reply and an ok
 * reply echoing its sdp are built (both must succeed: they fit in a
 * datagram) and parsed back. When it fails with a cookie, the error reply
 * with its reason must build. The input is also parsed as bare bencode:
 * node invariants are checked, and the tree is written again with the
 * builder, which must succeed exactly when every dictionary is sorted, and
 * then give back the input byte for byte. Aborts when an invariant
 * breaks. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/bencode.h"
#include "media/ng.h"

static const char *lo, *hi;
static struct ng_request req;
static struct bencode_node nodes[BENCODE_NODES_MAX];
static struct bencode_node back[8];
static char out[NG_DATAGRAM_MAX];

static void
check(int ok)
{
	if (!ok)
		abort();
}

static void
in(struct sv v)
{
	if (v.p == NULL) {
		check(v.len == 0);
		return;
	}
	check(v.p >= lo && v.p <= hi && v.len <= (size_t)(hi - v.p));
}

/* Splits a reply "<cookie> <dict>" and parses the dictionary into back. */
static void
reply_parse(size_t len, struct sv cookie)
{
	size_t n;

	check(len > cookie.len + 1 && len <= NG_DATAGRAM_MAX);
	check(memcmp(out, cookie.p, cookie.len) == 0);
	check(out[cookie.len] == ' ');
	check(bencode_parse(out + cookie.len + 1, len - cookie.len - 1, back,
	          ARRAY_LEN(back), &n, NULL) == 0);
	check(back[0].type == BENCODE_DICT);
}

static void
sv_check(const struct bencode_node *v, struct sv want)
{
	check(v != NULL && v->type == BENCODE_STR);
	check(v->s.len == want.len &&
	      (want.len == 0 || memcmp(v->s.p, want.p, want.len) == 0));
}

static void
error_reply_check(struct sv cookie, const char *reason)
{
	size_t len = 0;
	struct sv r = {reason, strlen(reason)};

	check(ng_reply_error(out, sizeof(out), cookie, reason, &len) == 0);
	reply_parse(len, cookie);
	sv_check(bencode_dict_get(&back[0], "error-reason"), r);
	sv_check(bencode_dict_get(&back[0], "result"), (struct sv){"error", 5});
}

static void
request_check(const char *buf, size_t size)
{
	const struct bencode_node *d, *k, *v;
	struct bencode_iter it;
	size_t i, len = 0;
	int err;

	err = ng_request_parse(buf, size, &req);
	in(req.cookie);
	check(req.cookie.len <= NG_COOKIE_MAX);
	if (req.cookie.len > 0)
		check(req.cookie.p == buf && buf[req.cookie.len] == ' ');
	if (err != 0) {
		check(err == EBADMSG || err == EMSGSIZE || err == ENOTSUP);
		check(req.reason != NULL && ng_request_dict(&req) == NULL);
		if (req.cookie.len > 0)
			error_reply_check(req.cookie, req.reason);
		return;
	}
	check(req.reason == NULL && req.cookie.len > 0);
	check(size <= NG_DATAGRAM_MAX);
	check(ng_command_name(req.cmd) != NULL);
	in(req.command);
	in(req.call_id);
	in(req.from_tag);
	in(req.to_tag);
	in(req.via_branch);
	in(req.sdp);
	in(req.transport_protocol);
	in(req.ice);
	in(req.received_family);
	in(req.received_addr);
	check(req.sdp.len <= NG_SDP_MAX);
	check(
	    req.nflags <= NG_FLAGS_MAX && req.ndirection <= NG_DIRECTION_MAX &&
	    req.nreplace <= NG_REPLACE_MAX && req.nrtcp_mux <= NG_RTCP_MUX_MAX);
	for (i = 0; i < req.nflags; i++)
		in(req.flags[i]);
	for (i = 0; i < req.ndirection; i++)
		in(req.direction[i]);
	for (i = 0; i < req.nreplace; i++)
		in(req.replace[i]);
	for (i = 0; i < req.nrtcp_mux; i++)
		in(req.rtcp_mux[i]);
	if (req.cmd != NG_CMD_PING)
		check(req.call_id.len > 0);
	if (req.cmd == NG_CMD_OFFER || req.cmd == NG_CMD_ANSWER)
		check(req.sdp.len > 0 && req.from_tag.len > 0);
	if (req.cmd == NG_CMD_ANSWER)
		check(req.to_tag.len > 0);

	/* every key is found by name, as itself */
	d = ng_request_dict(&req);
	check(d != NULL && d->type == BENCODE_DICT);
	check(req.nnodes >= 3 && req.nnodes <= NG_NODES_MAX &&
	      d->skip == req.nnodes);
	bencode_iter_init(&it, d);
	while (bencode_dict_next(&it, &k, &v))
		check(bencode_dict_getn(d, k->s.p, k->s.len) == v);
	sv_check(ng_request_get(&req, "command"), req.command);

	error_reply_check(req.cookie, "fuzz");
	check(
	    ng_reply_ok_sdp(out, sizeof(out), req.cookie, req.sdp, &len) == 0);
	reply_parse(len, req.cookie);
	sv_check(bencode_dict_get(&back[0], "sdp"), req.sdp);
	sv_check(bencode_dict_get(&back[0], "result"), (struct sv){"ok", 2});
}

/* Checks the subtree at n and returns the node after it. */
static const struct bencode_node *
tree_check(const struct bencode_node *n, const struct bencode_node *end)
{
	const struct bencode_node *c = n + 1;
	uint32_t i, kids;

	check(n < end && n->skip >= 1 && n->skip <= (size_t)(end - n));
	in(n->raw);
	check(n->raw.len > 0);
	switch (n->type) {
	case BENCODE_STR:
		in(n->s);
		check(
		    n->skip == 1 && n->s.p + n->s.len == n->raw.p + n->raw.len);
		return n + 1;
	case BENCODE_INT:
		check(n->skip == 1 && n->raw.p[0] == 'i');
		return n + 1;
	case BENCODE_LIST:
	case BENCODE_DICT:
		kids = n->type == BENCODE_DICT ? 2 * n->len : n->len;
		for (i = 0; i < kids; i++) {
			if (n->type == BENCODE_DICT && i % 2 == 0)
				check(c->type == BENCODE_STR);
			c = tree_check(c, n + n->skip);
		}
		check(c == n + n->skip);
		return c;
	}
	check(0);
	return NULL;
}

/* Writes the subtree at n with the builder; returns false when a
 * dictionary's keys are not in order (the builder said EINVAL). */
static bool
tree_build(struct bencode_buf *b, const struct bencode_node *n)
{
	struct bencode_iter it;
	const struct bencode_node *k, *v;

	switch (n->type) {
	case BENCODE_STR:
		bencode_put_str(b, n->s.p, n->s.len);
		break;
	case BENCODE_INT:
		bencode_put_int(b, n->i);
		break;
	case BENCODE_LIST:
		bencode_put_list(b);
		bencode_iter_init(&it, n);
		while ((v = bencode_list_next(&it)) != NULL)
			tree_build(b, v);
		bencode_put_end(b);
		break;
	case BENCODE_DICT:
		bencode_put_dict(b);
		bencode_iter_init(&it, n);
		while (bencode_dict_next(&it, &k, &v)) {
			bencode_put_keyn(b, k->s.p, k->s.len);
			tree_build(b, v);
		}
		bencode_put_end(b);
		break;
	}
	return b->err == 0;
}

/* True when every dictionary in the subtree at n has its keys in order. */
static bool
tree_sorted(const struct bencode_node *n)
{
	struct bencode_iter it;
	const struct bencode_node *k, *v, *prev = NULL;
	bool ok = true;

	if (n->type != BENCODE_LIST && n->type != BENCODE_DICT)
		return true;
	bencode_iter_init(&it, n);
	if (n->type == BENCODE_LIST) {
		while ((v = bencode_list_next(&it)) != NULL)
			ok = tree_sorted(v) && ok;
		return ok;
	}
	while (bencode_dict_next(&it, &k, &v)) {
		if (prev != NULL && bencode_key_cmp(prev->s.p, prev->s.len,
		                        k->s.p, k->s.len) >= 0)
			ok = false;
		prev = k;
		ok = tree_sorted(v) && ok;
	}
	return ok;
}

static void
bencode_check(const char *buf, size_t size)
{
	static char again[NG_DATAGRAM_MAX];
	struct bencode_buf b;
	const char *why = NULL;
	size_t n = 0, len = 0;
	int err;

	err = bencode_parse(buf, size, nodes, BENCODE_NODES_MAX, &n, &why);
	if (err != 0) {
		check((err == EBADMSG || err == EMSGSIZE) && why != NULL);
		return;
	}
	check(why == NULL && n >= 1 && n <= BENCODE_NODES_MAX);
	check(nodes[0].skip == n);
	check(nodes[0].raw.p == buf && nodes[0].raw.len == size);
	check(tree_check(&nodes[0], nodes + n) == nodes + n);
	if (size > sizeof(again))
		return;
	/* the input is canonical exactly when its dictionaries are sorted:
	 * then the builder gives it back byte for byte, in a buffer of its
	 * size */
	bencode_buf_init(&b, again, size);
	if (tree_build(&b, &nodes[0])) {
		check(tree_sorted(&nodes[0]));
		check(bencode_buf_finish(&b, &len) == 0);
		check(len == size && memcmp(again, buf, size) == 0);
	} else {
		check(b.err == EINVAL && !tree_sorted(&nodes[0]));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *sp;

	if (size == 0)
		buf = "";
	lo = buf;
	hi = buf + size;
	sp = memchr(buf, ' ', size);

	request_check(buf, size);
	bencode_check(buf, size);
	if (sp != NULL) /* the dictionary after a cookie */
		bencode_check(sp + 1, size - (size_t)(sp + 1 - buf));
	return 0;
}
