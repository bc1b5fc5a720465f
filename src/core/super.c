/* super.c: see super.h. */
#include "core/super.h"
#include "guard/nft.h"
#include "lib/log.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	SUPER_OP_BAN = 1,
	SUPER_ERR_MAX = 200,
};

/* One request, as written by the daemon: fixed size, every field checked
 * by the supervisor. */
struct super_msg {
	uint32_t op;
	uint32_t family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint32_t seconds; /* 0: lift */
};

/* The supervisor's answer to its start. */
struct super_hello {
	int32_t rc;
	char err[SUPER_ERR_MAX];
};

struct super {
	int fd;
	pid_t pid;
};

static void
msg_to_ss(const struct super_msg *m, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (m->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, m->addr, 4);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, m->addr, 16);
	}
}

/* The supervisor: never returns. */
static void
super_main(int fd)
{
	struct super_hello h;
	struct nftban *n = NULL;
	struct super_msg m;
	ssize_t got;

	memset(&h, 0, sizeof(h));
	(void)prctl(PR_SET_NAME, "sipwarden-sup", 0, 0, 0);
	h.rc = nftban_open(&n, h.err, sizeof(h.err));
	if (write(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) || h.rc != 0)
		_exit(1);
	for (;;) {
		got = recv(fd, &m, sizeof(m), 0);
		if (got == 0)
			break; /* the daemon is gone */
		if (got < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (got != (ssize_t)sizeof(m) || m.op != SUPER_OP_BAN ||
		    (m.family != AF_INET && m.family != AF_INET6) ||
		    m.seconds > NFT_BAN_MAX_S)
			continue; /* not ours: ignored */
		{
			struct sockaddr_storage ss;

			msg_to_ss(&m, &ss);
			if (m.seconds > 0)
				(void)nftban_add(n, &ss, m.seconds);
			else
				(void)nftban_del(n, &ss);
		}
	}
	nftban_close(n);
	_exit(0);
}

int
super_start(struct super **out, char *err, size_t errsize)
{
	struct super *s;
	struct super_hello h;
	int sv[2];
	pid_t pid;
	ssize_t got;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errsize, "[guard] nft: socketpair: %s",
		    strerror(errno));
		return errno;
	}
	if ((pid = fork()) < 0) {
		int e = errno;

		close(sv[0]);
		close(sv[1]);
		snprintf(err, errsize, "[guard] nft: fork: %s", strerror(e));
		return e;
	}
	if (pid == 0) {
		sigset_t all;

		close(sv[0]);
		/* Signals are the daemon's business; the supervisor ends
		 * when the daemon's end of the socket closes. */
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		super_main(sv[1]);
	}
	close(sv[1]);
	memset(&h, 0, sizeof(h));
	do
		got = read(sv[0], &h, sizeof(h));
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)sizeof(h) || h.rc != 0) {
		h.err[sizeof(h.err) - 1] = '\0';
		snprintf(err, errsize,
		    "[guard] nft = on: cannot make the nftables "
		    "table: %s",
		    got == (ssize_t)sizeof(h) ? h.err : "the supervisor died");
		close(sv[0]);
		waitpid(pid, NULL, 0);
		return got == (ssize_t)sizeof(h) && h.rc > 0 ? h.rc : EIO;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		close(sv[0]);
		waitpid(pid, NULL, 0);
		return ENOMEM;
	}
	s->fd = sv[0];
	s->pid = pid;
	*out = s;
	return 0;
}

void
super_ban(struct super *s, const struct sockaddr_storage *ss, uint32_t seconds)
{
	struct super_msg m;

	if (s == NULL)
		return;
	memset(&m, 0, sizeof(m));
	m.op = SUPER_OP_BAN;
	m.seconds = seconds > NFT_BAN_MAX_S ? NFT_BAN_MAX_S : seconds;
	if (ss->ss_family == AF_INET) {
		m.family = AF_INET;
		memcpy(m.addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		m.family = AF_INET6;
		memcpy(
		    m.addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	} else {
		return;
	}
	if (send(s->fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(m))
		log_warn(
		    "guard: nftables request dropped: %s", strerror(errno));
}

void
super_stop(struct super *s)
{
	if (s == NULL)
		return;
	close(s->fd);
	waitpid(s->pid, NULL, 0);
	free(s);
}
