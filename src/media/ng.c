/* ng.c: see ng.h. */
#include "media/ng.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* The keys this codec reads. */
enum ng_key {
	NG_KEY_COMMAND,
	NG_KEY_CALL_ID,
	NG_KEY_FROM_TAG,
	NG_KEY_TO_TAG,
	NG_KEY_VIA_BRANCH,
	NG_KEY_SDP,
	NG_KEY_TRANSPORT,
	NG_KEY_ICE,
	NG_KEY_FLAGS,
	NG_KEY_DIRECTION,
	NG_KEY_REPLACE,
	NG_KEY_RTCP_MUX,
	NG_KEY_RECEIVED_FROM,
	NG_KEY_COUNT
};

enum { NG_KEY_NAMES_MAX = 4 };

struct ng_key_def {
	enum ng_key key;
	const char *names[NG_KEY_NAMES_MAX]; /* spellings; NULL ends */
	const char *bad;                     /* reason: wrong type */
	const char *toomany;                 /* reason: list past its limit */
};

/* The spellings are those rtpengine accepts (daemon/call_interfaces.c). */
static const struct ng_key_def ng_keys[] = {
    {NG_KEY_COMMAND, {"command"}, "Invalid command", NULL},
    {NG_KEY_CALL_ID, {"call-id", "call id", "call-ID", "call ID"},
        "Invalid call-id", NULL},
    {NG_KEY_FROM_TAG, {"from-tag", "from tag"}, "Invalid from-tag", NULL},
    {NG_KEY_TO_TAG, {"to-tag", "to tag"}, "Invalid to-tag", NULL},
    {NG_KEY_VIA_BRANCH, {"via-branch", "via branch"}, "Invalid via-branch",
        NULL},
    {NG_KEY_SDP, {"sdp"}, "Invalid sdp", NULL},
    {NG_KEY_TRANSPORT, {"transport-protocol", "transport protocol"},
        "Invalid transport-protocol", NULL},
    {NG_KEY_ICE, {"ICE", "ice"}, "Invalid ICE", NULL},
    {NG_KEY_FLAGS, {"flags"}, "Invalid flags", "Too many flags"},
    {NG_KEY_DIRECTION, {"direction"}, "Invalid direction",
        "Too many directions"},
    {NG_KEY_REPLACE, {"replace"}, "Invalid replace", "Too many replace"},
    {NG_KEY_RTCP_MUX, {"rtcp-mux", "rtcp mux", "RTCP-mux", "RTCP mux"},
        "Invalid rtcp-mux", "Too many rtcp-mux"},
    {NG_KEY_RECEIVED_FROM, {"received-from", "received from"},
        "Invalid received-from", NULL},
};

static const char *const ng_command_names[] = {
    [NG_CMD_PING] = "ping",
    [NG_CMD_OFFER] = "offer",
    [NG_CMD_ANSWER] = "answer",
    [NG_CMD_DELETE] = "delete",
    [NG_CMD_QUERY] = "query",
};

static bool
ng_cookie_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static bool
ng_cookie_valid(struct sv c)
{
	size_t i;

	if (c.p == NULL || c.len == 0 || c.len > NG_COOKIE_MAX)
		return false;
	for (i = 0; i < c.len; i++) {
		if (!ng_cookie_char(c.p[i]))
			return false;
	}
	return true;
}

static bool
ng_sv_eq(struct sv v, const char *s)
{
	size_t n = strlen(s);

	return v.len == n && memcmp(v.p, s, n) == 0;
}

/* The definition of key k, or NULL when this codec does not read it. */
static const struct ng_key_def *
ng_key_find(struct sv k)
{
	size_t i, j;

	for (i = 0; i < ARRAY_LEN(ng_keys); i++) {
		for (j = 0; j < NG_KEY_NAMES_MAX && ng_keys[i].names[j]; j++) {
			if (ng_sv_eq(k, ng_keys[i].names[j]))
				return &ng_keys[i];
		}
	}
	return NULL;
}

/* Copies the string items of list v into out (room for max). */
static int
ng_list_get(const struct ng_key_def *def, const struct bencode_node *v,
    struct sv *out, size_t max, size_t *n, const char **reason)
{
	struct bencode_iter it;
	const struct bencode_node *item;
	size_t i = 0;

	if (v->type != BENCODE_LIST) {
		*reason = def->bad;
		return EBADMSG;
	}
	bencode_iter_init(&it, v);
	while ((item = bencode_list_next(&it)) != NULL) {
		if (item->type != BENCODE_STR) {
			*reason = def->bad;
			return EBADMSG;
		}
		if (i == max) {
			*reason = def->toomany;
			return EMSGSIZE;
		}
		out[i++] = item->s;
	}
	*n = i;
	return 0;
}

/* Reads one known key's value into req. */
static int
ng_key_read(struct ng_request *req, const struct ng_key_def *def,
    const struct bencode_node *v)
{
	struct sv *dst = NULL, pair[2];
	size_t n = 0;
	int err;

	switch (def->key) {
	case NG_KEY_COMMAND:
		dst = &req->command;
		break;
	case NG_KEY_CALL_ID:
		dst = &req->call_id;
		break;
	case NG_KEY_FROM_TAG:
		dst = &req->from_tag;
		break;
	case NG_KEY_TO_TAG:
		dst = &req->to_tag;
		break;
	case NG_KEY_VIA_BRANCH:
		dst = &req->via_branch;
		break;
	case NG_KEY_SDP:
		dst = &req->sdp;
		break;
	case NG_KEY_TRANSPORT:
		dst = &req->transport_protocol;
		break;
	case NG_KEY_ICE:
		dst = &req->ice;
		break;
	case NG_KEY_FLAGS:
		return ng_list_get(def, v, req->flags, NG_FLAGS_MAX,
		    &req->nflags, &req->reason);
	case NG_KEY_DIRECTION:
		return ng_list_get(def, v, req->direction, NG_DIRECTION_MAX,
		    &req->ndirection, &req->reason);
	case NG_KEY_REPLACE:
		return ng_list_get(def, v, req->replace, NG_REPLACE_MAX,
		    &req->nreplace, &req->reason);
	case NG_KEY_RTCP_MUX:
		return ng_list_get(def, v, req->rtcp_mux, NG_RTCP_MUX_MAX,
		    &req->nrtcp_mux, &req->reason);
	case NG_KEY_RECEIVED_FROM:
		/* [family, address]: anything else is malformed */
		if (v->type != BENCODE_LIST || v->len != 2) {
			req->reason = def->bad;
			return EBADMSG;
		}
		if ((err = ng_list_get(def, v, pair, 2, &n, &req->reason)) != 0)
			return err == EMSGSIZE ? EBADMSG : err;
		req->received_family = pair[0];
		req->received_addr = pair[1];
		req->has_received_from = true;
		return 0;
	case NG_KEY_COUNT:
		break;
	}
	if (dst == NULL || v->type != BENCODE_STR) {
		req->reason = def->bad;
		return EBADMSG;
	}
	*dst = v->s;
	return 0;
}

/* The command named by v, or NG_CMD_NONE. */
static enum ng_command
ng_command_find(struct sv v)
{
	size_t i;

	for (i = 1; i < ARRAY_LEN(ng_command_names); i++) {
		if (ng_sv_eq(v, ng_command_names[i]))
			return (enum ng_command)i;
	}
	return NG_CMD_NONE;
}

/* Checks that the keys cmd needs are there and not empty. */
static int
ng_required_check(struct ng_request *req)
{
	bool sdp = req->cmd == NG_CMD_OFFER || req->cmd == NG_CMD_ANSWER;

	if (req->cmd == NG_CMD_PING)
		return 0;
	if (sdp && req->sdp.len == 0) {
		req->reason = "No SDP body in message";
		return EBADMSG;
	}
	if (req->call_id.len == 0) {
		req->reason = "No call-id in message";
		return EBADMSG;
	}
	if (sdp && req->from_tag.len == 0) {
		req->reason = "No from-tag in message";
		return EBADMSG;
	}
	if (req->cmd == NG_CMD_ANSWER && req->to_tag.len == 0) {
		req->reason = "No to-tag in message";
		return EBADMSG;
	}
	return 0;
}

int
ng_request_parse(const char *buf, size_t len, struct ng_request *req)
{
	bool seen[NG_KEY_COUNT] = {false};
	struct bencode_iter it;
	const struct bencode_node *k, *v;
	const char *why;
	size_t i, nused, total = len;
	int err;

	if (req == NULL)
		return EINVAL;
	memset(req, 0, offsetof(struct ng_request, nodes));
	req->reason = "Invalid argument";
	if (buf == NULL)
		return EINVAL;

	/* "<cookie> ": without it no reply can be matched */
	for (i = 0; i < len && i <= NG_COOKIE_MAX && buf[i] != ' '; i++) {
		if (!ng_cookie_char(buf[i]))
			break;
	}
	if (i == 0 || i > NG_COOKIE_MAX || i >= len || buf[i] != ' ') {
		req->reason = "Invalid cookie";
		return EBADMSG;
	}
	req->cookie.p = buf;
	req->cookie.len = i;
	buf += i + 1;
	len -= i + 1;

	if (total > NG_DATAGRAM_MAX) {
		req->reason = "Message too large";
		return EMSGSIZE;
	}
	if (len > 0 && buf[0] == '{') {
		req->reason = "JSON is not supported";
		return EBADMSG;
	}
	if ((err = bencode_parse(
	         buf, len, req->nodes, NG_NODES_MAX, &nused, &why)) != 0) {
		req->reason = err == EMSGSIZE ? "Message too complex" : why;
		return err;
	}
	if (req->nodes[0].type != BENCODE_DICT) {
		req->reason = "Message is not a dictionary";
		return EBADMSG;
	}

	bencode_iter_init(&it, &req->nodes[0]);
	while (bencode_dict_next(&it, &k, &v)) {
		const struct ng_key_def *def = ng_key_find(k->s);

		if (def == NULL)
			continue; /* for the caller, through ng_request_get */
		if (seen[def->key]) {
			req->reason = "Key given twice";
			return EBADMSG;
		}
		seen[def->key] = true;
		if ((err = ng_key_read(req, def, v)) != 0)
			return err;
	}

	if (req->command.p == NULL) {
		req->reason = "No command in message";
		return EBADMSG;
	}
	if ((req->cmd = ng_command_find(req->command)) == NG_CMD_NONE) {
		req->reason = "Unrecognized command";
		return ENOTSUP;
	}
	if (req->sdp.len > NG_SDP_MAX) {
		req->reason = "SDP too large";
		return EMSGSIZE;
	}
	if ((err = ng_required_check(req)) != 0)
		return err;
	req->nnodes = nused;
	req->reason = NULL;
	return 0;
}

const struct bencode_node *
ng_request_dict(const struct ng_request *req)
{
	if (req == NULL || req->nnodes == 0)
		return NULL;
	return &req->nodes[0];
}

const struct bencode_node *
ng_request_get(const struct ng_request *req, const char *key)
{
	return bencode_dict_get(ng_request_dict(req), key);
}

const char *
ng_command_name(enum ng_command cmd)
{
	if ((size_t)cmd >= ARRAY_LEN(ng_command_names))
		return NULL;
	return ng_command_names[cmd];
}

int
ng_reply_start(struct ng_reply *r, char *buf, size_t size, struct sv cookie)
{
	int err = 0;

	if (r == NULL)
		return EINVAL;
	memset(r, 0, sizeof(*r));
	bencode_buf_init(&r->b, NULL, 0);
	if (buf == NULL || !ng_cookie_valid(cookie)) {
		err = EINVAL;
		goto out;
	}
	if (size > NG_DATAGRAM_MAX)
		size = NG_DATAGRAM_MAX;
	if (size < cookie.len + 1) {
		err = EMSGSIZE;
		goto out;
	}
	memcpy(buf, cookie.p, cookie.len);
	buf[cookie.len] = ' ';
	r->prefix = cookie.len + 1;
	bencode_buf_init(&r->b, buf + r->prefix, size - r->prefix);
	err = bencode_put_dict(&r->b);
out:
	if (err != 0)
		r->b.err = err;
	return err;
}

int
ng_reply_finish(struct ng_reply *r, size_t *outlen)
{
	size_t len;
	int err;

	if (r == NULL || outlen == NULL)
		return EINVAL;
	if ((err = bencode_put_end(&r->b)) != 0 ||
	    (err = bencode_buf_finish(&r->b, &len)) != 0)
		return err;
	*outlen = r->prefix + len;
	return 0;
}

/* A reply of string values only: keys[i] = vals[i], keys in order. */
static int
ng_reply_simple(char *buf, size_t size, struct sv cookie,
    const char *const *keys, const struct sv *vals, size_t n, size_t *outlen)
{
	struct ng_reply r;
	size_t i;
	int err;

	if ((err = ng_reply_start(&r, buf, size, cookie)) != 0)
		return err;
	for (i = 0; i < n; i++) {
		if ((err = bencode_put_kv_str(
		         &r.b, keys[i], vals[i].p, vals[i].len)) != 0)
			return err;
	}
	return ng_reply_finish(&r, outlen);
}

static struct sv
ng_sv(const char *s)
{
	struct sv v = {s, strlen(s)};

	return v;
}

int
ng_reply_pong(char *buf, size_t size, struct sv cookie, size_t *outlen)
{
	static const char *const keys[] = {"result"};
	struct sv vals[] = {ng_sv("pong")};

	return ng_reply_simple(buf, size, cookie, keys, vals, 1, outlen);
}

int
ng_reply_ok(char *buf, size_t size, struct sv cookie, size_t *outlen)
{
	static const char *const keys[] = {"result"};
	struct sv vals[] = {ng_sv("ok")};

	return ng_reply_simple(buf, size, cookie, keys, vals, 1, outlen);
}

int
ng_reply_ok_sdp(
    char *buf, size_t size, struct sv cookie, struct sv sdp, size_t *outlen)
{
	static const char *const keys[] = {"result", "sdp"};
	struct sv vals[] = {ng_sv("ok"), sdp};

	if (sdp.p == NULL && sdp.len > 0)
		return EINVAL;
	return ng_reply_simple(buf, size, cookie, keys, vals, 2, outlen);
}

int
ng_reply_error(char *buf, size_t size, struct sv cookie, const char *reason,
    size_t *outlen)
{
	static const char *const keys[] = {"error-reason", "result"};
	struct sv vals[2];

	if (reason == NULL)
		return EINVAL;
	vals[0] = ng_sv(reason);
	vals[1] = ng_sv("error");
	return ng_reply_simple(buf, size, cookie, keys, vals, 2, outlen);
}
