/* fuzz_sip_uri.c: libFuzzer target for the URI parser (src/sip/uri.c):
 * the whole input as a URI and as an addr-spec, parameter and header
 * lookups, unescaping, comparison. Aborts when an invariant breaks. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/uri.h"

static const char *lo, *hi;
static char buf[SIP_URI_MAX + 16];

static void
check(int ok)
{
	if (!ok)
		abort();
}

static void
in(struct sv v)
{
	if (v.len == 0 && (v.p == NULL || (v.p >= lo && v.p <= hi)))
		return;
	check(v.p != NULL && v.p >= lo && v.p <= hi &&
	      v.len <= (size_t)(hi - v.p));
}

static void
unescape(struct sv v)
{
	size_t n;
	int err;

	err = sip_uri_unescape(v, buf, sizeof(buf), &n);
	check(err == 0 || err == EBADMSG);
	if (err == 0) {
		check(n <= v.len);
		err = sip_uri_unescape(v, buf, n > 0 ? n - 1 : 0, &n);
		check(n == 0 || err == EMSGSIZE);
	}
}

static void
check_uri(const struct sip_uri *u, const char *text, size_t len)
{
	static const char *const names[] = {"transport", "user", "method",
	    "ttl", "maddr", "lr", "x", "Transport"};
	struct sip_uri again;
	struct sv v;
	size_t i;

	lo = text;
	hi = text + len;
	in(u->text);
	in(u->scheme_name);
	in(u->opaque);
	in(u->user);
	in(u->password);
	in(u->host);
	in(u->params);
	in(u->headers);
	in(u->transport);
	in(u->user_param);
	in(u->method);
	in(u->maddr);
	check(u->text.p == text && u->text.len <= len);
	check(u->text.len <= SIP_URI_MAX && u->nparams <= SIP_PARAMS_MAX);
	check(u->scheme_name.len > 0);
	if (u->scheme == SIP_URI_SIP || u->scheme == SIP_URI_SIPS)
		check(u->host.len > 0 && u->host_type != SIP_HOST_NONE);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (sip_uri_param(u, names[i], &v) == 0)
			in(v);
		if (sip_uri_header(u, names[i], &v) == 0)
			in(v);
	}
	if (u->transport.len > 0)
		check(sip_uri_param(u, "TRANSPORT", &v) == 0);
	unescape(u->user);
	unescape(u->password);
	unescape(u->params);
	unescape(u->headers);
	check(sip_uri_equal(u, u));
	/* The URI text parses again to an equal URI. */
	check(sip_uri_parse(u->text.p, u->text.len, &again) == 0);
	check(sip_uri_equal(u, &again) && sip_uri_equal(&again, u));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct sip_uri u, a;
	size_t used;
	int err;

	err = sip_uri_parse(text, size, &u);
	check(err == 0 || err == EBADMSG || err == EMSGSIZE);
	if (err == 0) {
		check(u.text.len == size);
		check_uri(&u, text, size);
	}
	err = sip_uri_parse_addrspec(text, size, &a, &used);
	check(err == 0 || err == EBADMSG || err == EMSGSIZE);
	if (err == 0) {
		check(used <= size && used == a.text.len);
		check(a.params.len == 0 || a.scheme == SIP_URI_TEL ||
		      a.scheme == SIP_URI_OTHER);
		check(a.headers.len == 0);
		lo = text;
		hi = text + size;
		in(a.host);
		if (sip_uri_parse(a.text.p, a.text.len, &u) == 0)
			check(sip_uri_equal(&u, &a));
	}
	return 0;
}
