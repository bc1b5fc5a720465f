/* firewall.c: `sipwarden firewall render`: a host firewall ruleset made
 * from the config (and the tenants' allow lists in the store), for
 * nftables (one inet table) or iptables-restore/ip6tables-restore.
 *
 * The input chain, in order: [guard] deny dropped; established and related
 * packets accepted; invalid ones dropped; loopback accepted; IPv6
 * neighbour discovery (and DHCPv6 replies) accepted; then each listener
 * of the config opened to its networks: SIP (tls, tcp, udp) to the phone
 * networks, the RTP range to [media] allow, the portal to [portal] allow,
 * SSH to --ssh; everything else dropped by the chain's policy. The
 * ruleset is printed whole, or nothing when an error stops it. */
#include "cli/cli.h"
#include "core/settings.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	FW_RULES_MAX = 4 * CONFIG_LISTEN_MAX + 8,
	FW_NETS_MAX = 1000000, /* entries of one set at most */
	FW_SSH_PORT = 22,
};

static const char fw_help[] =
    "usage: sipwarden -c CONF firewall render [--format nftables|iptables]\n"
    "           [--family ipv4|ipv6] [--ssh CIDRS|any] [--ssh-port PORT]\n"
    "\n"
    "Prints a host firewall ruleset made from the config: SIP listeners\n"
    "open to the phone networks ([guard] phones, the tenants' allow lists,\n"
    "[guard] allow; everyone when none is known), the RTP ports to [media]\n"
    "allow (empty: everyone), the portal to [portal] allow (empty: this\n"
    "host only), [guard] deny dropped first, everything else dropped.\n"
    "\n"
    "  --format nftables   (default) one `table inet sipwarden`: nft -f FILE\n"
    "  --format iptables   iptables-restore then ip6tables-restore input;\n"
    "                      --family ipv4 or ipv6 prints one of the two\n"
    "  --ssh CIDRS|any     also open SSH to these networks (without it no\n"
    "                      SSH port is opened: new SSH sessions are dropped)\n"
    "  --ssh-port PORT     SSH's port (default 22)\n";

/* A set of source networks: everyone (any), or the n entries of v. */
struct fw_set {
	const char *name; /* "phones": nft sets phones_v4 and phones_v6 */
	char what[160];   /* where its networks come from, for comments */
	bool any;
	struct config_cidr *v;
	size_t n, cap;
};

/* Accept proto to ports lo..hi (of daddr, unless any address) from set. */
struct fw_rule {
	char what[96]; /* "[sip] tls 0.0.0.0:5061" */
	int family;    /* AF_INET or AF_INET6 */
	bool udp;
	bool has_daddr;
	unsigned char daddr[16];
	unsigned lo, hi;
	const struct fw_set *src;
};

struct fw {
	const struct config *cfg;
	struct fw_set deny, phones, media, portal, ssh;
	struct fw_rule rules[FW_RULES_MAX];
	size_t nrules;
	size_t tenants, tenants_listed; /* tenants; those with an allow list */
	bool ssh_on;
	unsigned ssh_port;
	FILE *f;
};

static int
fw_set_add(struct fw_set *s, const struct config_cidr *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			struct config_cidr *v;

			if (cap > FW_NETS_MAX ||
			    (v = realloc(s->v, cap * sizeof(*v))) == NULL)
				return ENOMEM;
			s->v = v;
			s->cap = cap;
		}
		s->v[s->n++] = c[i];
	}
	return 0;
}

/* True when block a holds block b. */
static bool
fw_cidr_holds(const struct config_cidr *a, const struct config_cidr *b)
{
	unsigned full = a->prefix / 8, rest = a->prefix % 8;

	if (a->family != b->family || a->prefix > b->prefix)
		return false;
	if (memcmp(a->addr, b->addr, full) != 0)
		return false;
	return rest == 0 || ((a->addr[full] ^ b->addr[full]) &
	                        (unsigned char)(0xff00u >> rest)) == 0;
}

/* Drops the entries that another entry holds (and repeats), so no two
 * entries overlap: nftables refuses overlapping intervals. */
static void
fw_set_reduce(struct fw_set *s)
{
	size_t i, j, o = 0;

	for (i = 0; i < s->n; i++) {
		bool held = false;

		for (j = 0; j < s->n && !held; j++) {
			if (j == i || !fw_cidr_holds(&s->v[j], &s->v[i]))
				continue;
			/* of two equal entries keep the first */
			held = s->v[j].prefix < s->v[i].prefix || j < i;
		}
		if (!held)
			s->v[o++] = s->v[i];
	}
	s->n = o;
}

static size_t
fw_set_count(const struct fw_set *s, int family)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->v[i].family == family;
	return n;
}

struct fw_tenant_walk {
	struct fw *fw;
	int err;
	char name[STORE_NAME_MAX];
	char why[256];
};

/* Adds a tenant's allow list to the phone networks. */
static int
fw_tenant_cb(void *arg, const struct store_tenant *t)
{
	struct fw_tenant_walk *w = arg;
	struct config_cidr c[CONFIG_CIDR_MAX];
	char v[STORE_SETTINGS_MAX];
	size_t n = 0;

	settings_get(
	    t->settings, settings_find(SETTINGS_TENANT, "allow"), v, sizeof(v));
	w->fw->tenants++;
	if (config_cidrs_parse(
	        v, c, CONFIG_CIDR_MAX, &n, w->why, sizeof(w->why)) != 0) {
		snprintf(w->name, sizeof(w->name), "%s", t->name);
		w->err = EINVAL;
		return EINVAL;
	}
	if (n == 0)
		return 0;
	w->fw->tenants_listed++;
	if ((w->err = fw_set_add(&w->fw->phones, c, n)) != 0)
		return w->err;
	return 0;
}

/* Adds an accept rule for each listener address of l that is not on
 * loopback (loopback is accepted whole). */
static void
fw_rules_listen(struct fw *fw, const char *what, const struct config_listen *l,
    bool udp, const struct fw_set *src)
{
	char a[CONFIG_ADDR_STRLEN];
	size_t i;

	for (i = 0; i < l->n && fw->nrules < FW_RULES_MAX; i++) {
		const struct sockaddr_storage *ss = &l->addr[i];
		struct fw_rule *r = &fw->rules[fw->nrules];

		memset(r, 0, sizeof(*r));
		if (ss->ss_family == AF_INET) {
			const struct sockaddr_in *s = (const void *)ss;

			if ((ntohl(s->sin_addr.s_addr) >> 24) == 127)
				continue;
			r->family = AF_INET;
			r->has_daddr = s->sin_addr.s_addr != htonl(INADDR_ANY);
			memcpy(r->daddr, &s->sin_addr, 4);
			r->lo = r->hi = ntohs(s->sin_port);
		} else {
			const struct sockaddr_in6 *s = (const void *)ss;

			if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr))
				continue;
			r->family = AF_INET6;
			r->has_daddr = !IN6_IS_ADDR_UNSPECIFIED(&s->sin6_addr);
			memcpy(r->daddr, &s->sin6_addr, 16);
			r->lo = r->hi = ntohs(s->sin6_port);
		}
		snprintf(r->what, sizeof(r->what), "%s %s", what,
		    config_listen_fmt(ss, a, sizeof(a)));
		r->udp = udp;
		r->src = src;
		fw->nrules++;
	}
}

/* Adds accept rules for ports lo..hi, any address, both families. */
static void
fw_rules_ports(struct fw *fw, const char *what, bool udp, unsigned lo,
    unsigned hi, const struct fw_set *src)
{
	static const int fam[] = {AF_INET, AF_INET6};
	size_t i;

	for (i = 0; i < ARRAY_LEN(fam) && fw->nrules < FW_RULES_MAX; i++) {
		struct fw_rule *r = &fw->rules[fw->nrules++];

		memset(r, 0, sizeof(*r));
		snprintf(r->what, sizeof(r->what), "%s", what);
		r->family = fam[i];
		r->udp = udp;
		r->lo = lo;
		r->hi = hi;
		r->src = src;
	}
}

static const char *
fw_addr_fmt(int family, const unsigned char *addr, char *buf, size_t size)
{
	if (inet_ntop(family, addr, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
	return buf;
}

/* "v4" or "v6". */
static const char *
fw_fam(int family)
{
	return family == AF_INET ? "v4" : "v6";
}

static void
fw_header(struct fw *fw, const char *tool)
{
	FILE *f = fw->f;

	fprintf(f,
	    "# sipwarden host firewall, rendered by `sipwarden firewall "
	    "render`\n# from %s.\n# Load it with: %s.\n# Render and load it "
	    "again after changing the config or a tenant's\n# allow list.\n#\n",
	    fw->cfg->path, tool);
	fprintf(f, "# SIP phone networks: %s\n", fw->phones.what);
	fprintf(f, "# RTP sources: %s\n", fw->media.what);
	fprintf(f, "# Portal clients: %s\n", fw->portal.what);
	if (fw->ssh_on)
		fprintf(f, "# SSH (port %u): %s\n", fw->ssh_port, fw->ssh.what);
	else
		fprintf(f,
		    "# SSH: NOT OPENED (no --ssh): new SSH sessions are "
		    "dropped; sessions open\n# when it is loaded survive.\n");
}

static void
fw_nft_set(struct fw *fw, const struct fw_set *s, int family)
{
	FILE *f = fw->f;
	const char *sep = "";
	char a[CONFIG_ADDR_STRLEN];
	size_t i;

	if (s->any || fw_set_count(s, family) == 0)
		return;
	fprintf(f,
	    "\tset %s_%s {\n\t\ttype %s\n\t\tflags interval\n"
	    "\t\tauto-merge\n\t\telements = { ",
	    s->name, fw_fam(family),
	    family == AF_INET ? "ipv4_addr" : "ipv6_addr");
	for (i = 0; i < s->n; i++) {
		if (s->v[i].family != family)
			continue;
		fprintf(
		    f, "%s%s", sep, config_cidr_fmt(&s->v[i], a, sizeof(a)));
		sep = ",\n\t\t\t     ";
	}
	fprintf(f, " }\n\t}\n\n");
}

static void
fw_nft_rule(struct fw *fw, const struct fw_rule *r)
{
	const char *ip = r->family == AF_INET ? "ip" : "ip6";
	const char *proto = r->udp ? "udp" : "tcp";
	FILE *f = fw->f;
	char a[INET6_ADDRSTRLEN],
	    daddr[INET6_ADDRSTRLEN + 16] = "", saddr[STORE_NAME_MAX + 16] = "";

	fprintf(f, "\t\t# %s, %s\n", r->what,
	    r->family == AF_INET ? "IPv4" : "IPv6");
	if (!r->src->any && fw_set_count(r->src, r->family) == 0) {
		fprintf(f, "\t\t# closed: no %s network in: %s\n",
		    r->family == AF_INET ? "IPv4" : "IPv6", r->src->what);
		return;
	}
	if (r->has_daddr)
		snprintf(daddr, sizeof(daddr), "%s daddr %s ", ip,
		    fw_addr_fmt(r->family, r->daddr, a, sizeof(a)));
	if (!r->src->any)
		snprintf(saddr, sizeof(saddr), "%s saddr @%s_%s ", ip,
		    r->src->name, fw_fam(r->family));
	if (r->has_daddr || !r->src->any)
		fprintf(f, "\t\t%s%s%s dport ", daddr, saddr, proto);
	else
		fprintf(f, "\t\tmeta nfproto ipv%c %s dport ",
		    r->family == AF_INET ? '4' : '6', proto);
	if (r->lo == r->hi)
		fprintf(f, "%u accept\n", r->lo);
	else
		fprintf(f, "%u-%u accept\n", r->lo, r->hi);
}

static void
fw_nft(struct fw *fw)
{
	const struct fw_set *sets[] = {
	    &fw->deny, &fw->phones, &fw->media, &fw->portal, &fw->ssh};
	FILE *f = fw->f;
	size_t i, j;

	fprintf(f, "#!/usr/sbin/nft -f\n");
	fw_header(fw, "nft -f FILE (it replaces the table inet sipwarden)");
	fprintf(f,
	    "# Other tables' input chains see packets too: a packet must be\n"
	    "# accepted by every one of them.\n\n"
	    "table inet sipwarden\ndelete table inet sipwarden\n\n"
	    "table inet sipwarden {\n");
	for (i = 0; i < ARRAY_LEN(sets); i++)
		for (j = 0; j < 2; j++)
			fw_nft_set(fw, sets[i], j == 0 ? AF_INET : AF_INET6);
	fprintf(f, "\tchain input {\n"
	           "\t\ttype filter hook input priority filter; policy drop;\n"
	           "\n");
	if (fw->deny.n > 0) {
		fprintf(
		    f, "\t\t# [guard] deny: dropped before anything else\n");
		for (j = 0; j < 2; j++)
			if (fw_set_count(&fw->deny, j ? AF_INET6 : AF_INET))
				fprintf(f,
				    "\t\t%s saddr @deny_%s counter drop\n",
				    j ? "ip6" : "ip", j ? "v6" : "v4");
	}
	fprintf(f,
	    "\t\tct state established,related accept\n"
	    "\t\tct state invalid drop\n"
	    "\t\tiif \"lo\" accept\n"
	    "\t\t# IPv6 needs neighbour discovery; DHCPv6 replies come from a\n"
	    "\t\t# link-local server address\n"
	    "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, "
	    "nd-router-advert } ip6 hoplimit 255 accept\n"
	    "\t\tip6 saddr fe80::/10 udp sport 547 udp dport 546 accept\n");
	for (i = 0; i < fw->nrules; i++)
		fw_nft_rule(fw, &fw->rules[i]);
	fprintf(f, "\t}\n}\n");
}

/* One "-A INPUT ..." line of r for each source network (or one for
 * everyone). */
static void
fw_ipt_rule(struct fw *fw, const struct fw_rule *r)
{
	const char *proto = r->udp ? "udp" : "tcp";
	FILE *f = fw->f;
	char a[INET6_ADDRSTRLEN], c[CONFIG_ADDR_STRLEN],
	    daddr[INET6_ADDRSTRLEN + 8] = "", ports[16];
	size_t i;

	fprintf(f, "# %s\n", r->what);
	if (!r->src->any && fw_set_count(r->src, r->family) == 0) {
		fprintf(f, "# closed: no %s network in: %s\n",
		    r->family == AF_INET ? "IPv4" : "IPv6", r->src->what);
		return;
	}
	if (r->has_daddr)
		snprintf(daddr, sizeof(daddr), " -d %s",
		    fw_addr_fmt(r->family, r->daddr, a, sizeof(a)));
	if (r->lo == r->hi)
		snprintf(ports, sizeof(ports), "%u", r->lo);
	else
		snprintf(ports, sizeof(ports), "%u:%u", r->lo, r->hi);
	if (r->src->any) {
		fprintf(f, "-A INPUT%s -p %s -m %s --dport %s -j ACCEPT\n",
		    daddr, proto, proto, ports);
		return;
	}
	for (i = 0; i < r->src->n; i++)
		if (r->src->v[i].family == r->family)
			fprintf(f,
			    "-A INPUT -s %s%s -p %s -m %s --dport %s -j "
			    "ACCEPT\n",
			    config_cidr_fmt(&r->src->v[i], c, sizeof(c)), daddr,
			    proto, proto, ports);
}

static void
fw_ipt(struct fw *fw, int family)
{
	const char *tool =
	    family == AF_INET ? "iptables-restore" : "ip6tables-restore";
	char how[96], c[CONFIG_ADDR_STRLEN];
	FILE *f = fw->f;
	size_t i;

	snprintf(how, sizeof(how),
	    "%s < FILE (IPv%c;\n# it replaces every rule of the filter table)",
	    tool, family == AF_INET ? '4' : '6');
	fw_header(fw, how);
	fprintf(f, "*filter\n:INPUT DROP [0:0]\n");
	if (fw_set_count(&fw->deny, family) > 0)
		fprintf(f, "# [guard] deny: dropped before anything else\n");
	for (i = 0; i < fw->deny.n; i++)
		if (fw->deny.v[i].family == family)
			fprintf(f, "-A INPUT -s %s -j DROP\n",
			    config_cidr_fmt(&fw->deny.v[i], c, sizeof(c)));
	fprintf(f, "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j "
	           "ACCEPT\n"
	           "-A INPUT -m conntrack --ctstate INVALID -j DROP\n"
	           "-A INPUT -i lo -j ACCEPT\n");
	if (family == AF_INET6) {
		static const char *const nd[] = {"neighbour-solicitation",
		    "neighbour-advertisement", "router-advertisement"};

		fprintf(f, "# IPv6 needs neighbour discovery; DHCPv6 replies "
		           "come from a link-local\n# server address\n");
		for (i = 0; i < ARRAY_LEN(nd); i++)
			fprintf(f,
			    "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type %s "
			    "-m hl --hl-eq 255 -j ACCEPT\n",
			    nd[i]);
		fprintf(f, "-A INPUT -s fe80::/10 -p udp -m udp --sport 547 "
		           "--dport 546 -j ACCEPT\n");
	}
	for (i = 0; i < fw->nrules; i++)
		if (fw->rules[i].family == family)
			fw_ipt_rule(fw, &fw->rules[i]);
	fprintf(f, "COMMIT\n");
}

/* Fills the sets and rules from the config, the tenants and options.
 * Returns an exit code (message printed). */
static int
fw_build(struct fw *fw, struct cli *c, const char *ssh)
{
	const struct config *cfg = c->cfg;
	struct fw_tenant_walk w;
	char why[256];
	int rc;

	fw->deny.name = "deny";
	fw->phones.name = "phones";
	fw->media.name = "media";
	fw->portal.name = "portal";
	fw->ssh.name = "ssh";
	if ((rc = fw_set_add(&fw->deny, cfg->guard_deny, cfg->guard_deny_n)))
		goto nomem;
	snprintf(fw->deny.what, sizeof(fw->deny.what), "[guard] deny");

	/* Phones: [guard] phones and the tenants' allow lists; restricted
	 * when [guard] phones is set or every tenant has a list. */
	memset(&w, 0, sizeof(w));
	w.fw = fw;
	if ((rc = store_tenant_list(c->st, fw_tenant_cb, &w)) != 0) {
		if (w.err == EINVAL)
			return cli_fail(EXIT_USAGE,
			    "firewall render: tenant %s: allow: %s", w.name,
			    w.why);
		if (w.err == ENOMEM)
			goto nomem;
		return cli_fail(EXIT_FAILED, "firewall render: store: %s",
		    store_errmsg(c->st));
	}
	if (cfg->guard_phones_n > 0 ||
	    (fw->tenants > 0 && fw->tenants_listed == fw->tenants)) {
		if ((rc = fw_set_add(&fw->phones, cfg->guard_phones,
		         cfg->guard_phones_n)) != 0 ||
		    (rc = fw_set_add(&fw->phones, cfg->guard_allow,
		         cfg->guard_allow_n)) != 0)
			goto nomem;
		snprintf(fw->phones.what, sizeof(fw->phones.what),
		    "[guard] phones (%zu), the allow lists of %zu of %zu "
		    "tenants, [guard] allow (%zu)",
		    cfg->guard_phones_n, fw->tenants_listed, fw->tenants,
		    cfg->guard_allow_n);
	} else {
		fw->phones.any = true;
		fw->phones.n = 0;
		snprintf(fw->phones.what, sizeof(fw->phones.what),
		    "everyone ([guard] phones is empty and %s)",
		    fw->tenants == 0 ? "there is no tenant"
		                     : "some tenant has no allow list");
	}

	fw->media.any = cfg->media_allow_n == 0;
	if ((rc = fw_set_add(&fw->media, cfg->media_allow, cfg->media_allow_n)))
		goto nomem;
	snprintf(fw->media.what, sizeof(fw->media.what), "%s",
	    fw->media.any ? "everyone ([media] allow is empty)"
	                  : "[media] allow");

	/* The portal: [portal] allow; empty is this host only. */
	if ((rc = fw_set_add(
	         &fw->portal, cfg->portal_allow, cfg->portal_allow_n)))
		goto nomem;
	snprintf(fw->portal.what, sizeof(fw->portal.what), "%s",
	    cfg->portal_allow_n == 0
	        ? "this host only ([portal] allow is empty; use an SSH tunnel)"
	        : "[portal] allow");

	if (fw->ssh_on) {
		struct config_cidr cs[CONFIG_CIDR_MAX];
		size_t n = 0;

		snprintf(why, sizeof(why), "give CIDRs or any");
		if (strcmp(ssh, "any") == 0) {
			fw->ssh.any = true;
		} else if (config_cidrs_parse(ssh, cs, CONFIG_CIDR_MAX, &n, why,
		               sizeof(why)) != 0 ||
		           n == 0) {
			return cli_fail(EXIT_USAGE,
			    "firewall render: --ssh \"%s\": %s", ssh, why);
		} else if ((rc = fw_set_add(&fw->ssh, cs, n)) != 0) {
			goto nomem;
		}
		snprintf(fw->ssh.what, sizeof(fw->ssh.what), "%s",
		    fw->ssh.any ? "everyone (--ssh any)" : "--ssh");
	}
	fw_set_reduce(&fw->deny);
	fw_set_reduce(&fw->phones);
	fw_set_reduce(&fw->media);
	fw_set_reduce(&fw->portal);
	fw_set_reduce(&fw->ssh);

	fw_rules_listen(fw, "[sip] tls", &cfg->sip_tls, false, &fw->phones);
	fw_rules_listen(fw, "[sip] tcp", &cfg->sip_tcp, false, &fw->phones);
	fw_rules_listen(fw, "[sip] udp", &cfg->sip_udp, true, &fw->phones);
	fw_rules_ports(fw, "[media] ports, RTP", true, cfg->media_port_lo,
	    cfg->media_port_hi, &fw->media);
	fw_rules_listen(
	    fw, "[portal] listen", &cfg->portal_listen, false, &fw->portal);
	if (fw->ssh_on)
		fw_rules_ports(
		    fw, "SSH", false, fw->ssh_port, fw->ssh_port, &fw->ssh);
	return EXIT_OK;
nomem:
	return cli_fail(EXIT_FAILED, "firewall render: out of memory");
}

static int
fw_render(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--format", true, false, NULL},
	    {"--family", true, false, NULL}, {"--ssh", true, false, NULL},
	    {"--ssh-port", true, false, NULL}};
	const char *pos[1], *format = "nftables";
	int family = 0; /* both */
	struct fw fw;
	char *text = NULL;
	size_t npos, size = 0;
	uint64_t port = FW_SSH_PORT;
	int rc;

	if ((rc = cli_args(
	         "firewall render", argc, argv, o, 4, pos, 0, 0, &npos)))
		return rc;
	if (o[0].set)
		format = o[0].val;
	if (strcmp(format, "nftables") != 0 && strcmp(format, "iptables") != 0)
		return cli_fail(EXIT_USAGE,
		    "firewall render: --format \"%s\": must be nftables or "
		    "iptables",
		    format);
	if (o[1].set) {
		if (strcmp(format, "iptables") != 0)
			return cli_fail(EXIT_USAGE,
			    "firewall render: --family: only with --format "
			    "iptables (nftables takes both in one table)");
		if (strcmp(o[1].val, "ipv4") == 0)
			family = AF_INET;
		else if (strcmp(o[1].val, "ipv6") == 0)
			family = AF_INET6;
		else
			return cli_fail(EXIT_USAGE,
			    "firewall render: --family \"%s\": must be ipv4 or "
			    "ipv6",
			    o[1].val);
	}
	if (o[3].set &&
	    (util_u64_parse(o[3].val, strlen(o[3].val), 65535, &port) != 0 ||
	        port == 0))
		return cli_fail(EXIT_USAGE,
		    "firewall render: --ssh-port \"%s\": must be 1..65535",
		    o[3].val);
	if (o[3].set && !o[2].set)
		return cli_fail(EXIT_USAGE,
		    "firewall render: --ssh-port needs --ssh CIDRS|any");
	if ((rc = cli_open(c, false)) != EXIT_OK)
		return rc;
	memset(&fw, 0, sizeof(fw));
	fw.cfg = c->cfg;
	fw.ssh_on = o[2].set;
	fw.ssh_port = (unsigned)port;
	if ((rc = fw_build(&fw, c, o[2].val)) != EXIT_OK)
		goto out;
	if ((fw.f = open_memstream(&text, &size)) == NULL) {
		rc = cli_fail(EXIT_FAILED, "firewall render: out of memory");
		goto out;
	}
	if (strcmp(format, "nftables") == 0) {
		fw_nft(&fw);
	} else {
		if (family != AF_INET6)
			fw_ipt(&fw, AF_INET);
		if (family == 0)
			fputs("\n", fw.f);
		if (family != AF_INET)
			fw_ipt(&fw, AF_INET6);
	}
	if (fclose(fw.f) != 0 || text == NULL) {
		rc = cli_fail(EXIT_FAILED, "firewall render: out of memory");
		goto out;
	}
	fputs(text, stdout);
	if (!fw.ssh_on)
		fputs("sipwarden: firewall render: note: no --ssh, so the "
		      "ruleset opens no SSH port\n",
		    stderr);
	rc = EXIT_OK;
out:
	free(text);
	free(fw.deny.v);
	free(fw.phones.v);
	free(fw.media.v);
	free(fw.portal.v);
	free(fw.ssh.v);
	return rc;
}

static const struct cli_sub firewall_subs[] = {
    {"render", fw_render},
};

int
cmd_firewall(const char *conf, int argc, char **argv)
{
	return cli_dispatch(conf, "firewall", fw_help, firewall_subs,
	    sizeof(firewall_subs) / sizeof(firewall_subs[0]), argc, argv);
}
