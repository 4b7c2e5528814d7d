/*
 * notify.c: the notifier, the process that posts events to the webhook.
 *
 * The monitor hands each notice to the parent, which passes it here.
 * This process turns it into a JSON document (webhook.c) and POSTs it,
 * one connection at a time, with a minimal HTTP/1.1 client over a
 * bufferevent, through TLS when the URL says https.  A 2xx answer is a
 * delivery; anything else, a timeout or a refused connection is retried
 * later (5 s, 30 s, 2 min, then every 10 min, for an hour), each event
 * on its own schedule, so that one refused document does not hold up
 * the next.  The queue is bounded: when it is full the oldest event is
 * dropped, with a warning.  Nothing here can make the monitor wait.
 *
 * It runs unprivileged, chrooted to the empty directory and sandboxed,
 * like the recorder; its filter adds TCP sockets and connect().  Since
 * nothing can be read inside the chroot, the webhook's host is resolved
 * and the CA certificates are loaded at start, before privileges go: a
 * webhook whose address changes needs a restart of portierd.  Without a
 * webhook in portier.conf it runs all the same and drops what it gets;
 * the monitor has written the syslog line already.
 */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "portier.h"
#include "msg.h"

#define NOTIFY_QUEUE_MAX	1000	/* events waiting; then the oldest goes */
#define NOTIFY_ADDRS_MAX	8
#define NOTIFY_ANSWER_MAX	1024	/* bytes before the status line ends */
#define NOTIFY_CA_FALLBACK	"/etc/ssl/certs/ca-certificates.crt"

struct nevent {
	TAILQ_ENTRY(nevent)	 ne_entry;
	char			 ne_event[NOTICE_EVENT_MAX];
	char			*ne_body;
	time_t			 ne_first;	/* first attempt */
	time_t			 ne_due;	/* next attempt */
	int			 ne_failures;
};
TAILQ_HEAD(nevents, nevent);

/* The delivery under way: one at a time. */
struct attempt {
	struct nevent		*at_ev;
	struct bufferevent	*at_bev;
	size_t			 at_addr;	/* index in addrs[] */
	int			 at_connected;
};

static struct event_base *base;
static struct pt_config	*conf;
static struct msgchan	*parent_chan;
static struct nevents	 queue = TAILQ_HEAD_INITIALIZER(queue);
static size_t		 nqueued;
static struct attempt	 cur;
static struct event	*wake_ev;	/* the next event is due */
static struct event	*deadline_ev;	/* the attempt took too long */
static struct webhook_url url;
static char		 url_name[300];	/* "https://host:port", no path */
static struct sockaddr_storage addrs[NOTIFY_ADDRS_MAX];
static socklen_t	 addrlens[NOTIFY_ADDRS_MAX];
static size_t		 naddrs;
static SSL_CTX		*ssl_ctx;
static char		 bastion[256];

static void	notify_next(void);

/* ---- start-up, as root -------------------------------------------------- */

static void
notify_resolve(void)
{
	struct addrinfo	 hints, *res, *ai;
	char		 port[8];
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(port, sizeof(port), "%d", url.wu_port);
	if ((rc = getaddrinfo(url.wu_host, port, &hints, &res)) != 0) {
		log_alert("webhook %s: cannot resolve %s: %s; notifications "
		    "go to syslog only until portierd restarts", url_name,
		    url.wu_host, gai_strerror(rc));
		return;
	}
	for (ai = res; ai != NULL && naddrs < NOTIFY_ADDRS_MAX;
	    ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(addrs[0]))
			continue;
		memcpy(&addrs[naddrs], ai->ai_addr, ai->ai_addrlen);
		addrlens[naddrs++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
}

/* The CA certificates are read now: the chroot has none. */
static void
notify_tls_init(void)
{
	const char	*ca = conf->cf_webhook_ca, *err;

	if ((ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		fatalx("webhook: SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
	if (ca == NULL) {
		ca = X509_get_default_cert_file();
		if (access(ca, R_OK) == -1)
			ca = NOTIFY_CA_FALLBACK;
	}
	if (SSL_CTX_load_verify_locations(ssl_ctx, ca, NULL) != 1) {
		if ((err = ERR_reason_error_string(ERR_get_error())) == NULL)
			err = "unreadable";
		fatalx("webhook: cannot load CA certificates from %s: %s; "
		    "install ca-certificates or name a file with: webhook ca "
		    "\"/path/to/ca.pem\"", ca, err);
	}
	ERR_clear_error();
	/* Anything OpenSSL loads lazily, let it load before the chroot. */
	SSL_free(SSL_new(ssl_ctx));
}

static void
notify_prepare(void)
{
	const char	*why;

	if (webhook_url_parse(conf->cf_webhook, &url, &why) == -1)
		fatalx("webhook: bad URL: %s", why);	/* parse.y checked */
	snprintf(url_name, sizeof(url_name), "%s://%s%s%s:%d",
	    url.wu_tls ? "https" : "http", strchr(url.wu_host, ':') ? "[" : "",
	    url.wu_host, strchr(url.wu_host, ':') ? "]" : "", url.wu_port);
	if (url.wu_tls)
		notify_tls_init();
	notify_resolve();
	log_info("webhook %s: %zu address%s, timeout %d s, first retry "
	    "after %d s", url_name, naddrs, naddrs == 1 ? "" : "es",
	    conf->cf_webhook_timeout, conf->cf_webhook_retry);
}

/* ---- the queue ---------------------------------------------------------- */

static void
notify_free(struct nevent *ne)
{
	TAILQ_REMOVE(&queue, ne, ne_entry);
	nqueued--;
	free(ne->ne_body);
	free(ne);
}

static void
notify_enqueue(const struct notice *n, time_t when)
{
	struct nevent	*ne, *old;

	if (nqueued >= NOTIFY_QUEUE_MAX) {
		TAILQ_FOREACH(old, &queue, ne_entry)
			if (old != cur.at_ev)
				break;
		if (old != NULL) {
			log_warnx("webhook %s: %d events waiting; dropping "
			    "the oldest (%s)", url_name, NOTIFY_QUEUE_MAX,
			    old->ne_event);
			notify_free(old);
		}
	}
	ne = xcalloc(1, sizeof(*ne));
	strlcpy(ne->ne_event, n->n_event, sizeof(ne->ne_event));
	ne->ne_body = webhook_json(n, when, bastion);
	ne->ne_first = ne->ne_due = time(NULL);
	TAILQ_INSERT_TAIL(&queue, ne, ne_entry);
	nqueued++;
}

/* ---- one delivery ------------------------------------------------------- */

static void
notify_done(int ok, const char *why)
{
	struct nevent	*ne = cur.at_ev;
	time_t		 now = time(NULL);
	int		 delay;

	if (cur.at_bev != NULL)
		bufferevent_free(cur.at_bev);
	event_del(deadline_ev);
	memset(&cur, 0, sizeof(cur));

	ne->ne_failures += !ok;
	if (ok) {
		log_info("webhook %s: delivered %s%s", url_name, ne->ne_event,
		    ne->ne_failures ? " after retrying" : "");
		notify_free(ne);
	} else if ((delay = webhook_retry_delay(ne->ne_failures,
	    ne->ne_first, now, conf->cf_webhook_retry)) == -1) {
		log_alert("webhook %s: giving up on %s after %d attempts: %s",
		    url_name, ne->ne_event, ne->ne_failures, why);
		notify_free(ne);
	} else {
		log_warnx("webhook %s: %s, attempt %d: %s; next in %d s",
		    url_name, ne->ne_event, ne->ne_failures, why, delay);
		ne->ne_due = now + delay;
	}
	notify_next();
}

static void
notify_write(void)
{
	struct evbuffer	*out = bufferevent_get_output(cur.at_bev);
	const char	*body = cur.at_ev->ne_body;
	int		 v6 = strchr(url.wu_host, ':') != NULL;
	int		 dflt = url.wu_port == (url.wu_tls ? 443 : 80);

	evbuffer_add_printf(out, "POST %s HTTP/1.1\r\n"
	    "Host: %s%s%s", url.wu_path, v6 ? "[" : "", url.wu_host,
	    v6 ? "]" : "");
	if (!dflt)
		evbuffer_add_printf(out, ":%d", url.wu_port);
	evbuffer_add_printf(out, "\r\n"
	    "User-Agent: portierd/%s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", PORTIER_VERSION, strlen(body));
	evbuffer_add(out, body, strlen(body));
}

/* Only the status line matters; the rest of the answer is not read. */
static void
notify_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line, why[64];
	size_t		 len;
	int		 status;

	if ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) == NULL) {
		if (evbuffer_get_length(in) > NOTIFY_ANSWER_MAX)
			notify_done(0, "the answer is not HTTP");
		return;
	}
	status = len < NOTIFY_ANSWER_MAX ? webhook_status(line) : -1;
	free(line);
	if (status == -1)
		notify_done(0, "the answer is not HTTP");
	else if (status >= 200 && status <= 299)
		notify_done(1, NULL);
	else {
		snprintf(why, sizeof(why), "answered %d", status);
		notify_done(0, why);
	}
}

static int	notify_connect(void);

static void
notify_event(struct bufferevent *bev, short what, void *arg)
{
	char		 why[256];
	unsigned long	 e;
	int		 err = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_CONNECTED) {
		cur.at_connected = 1;
		notify_write();
		return;
	}
	why[0] = '\0';
	if (url.wu_tls && (e = bufferevent_get_openssl_error(bev)) != 0) {
		snprintf(why, sizeof(why), "TLS: %s",
		    ERR_reason_error_string(e) != NULL ?
		    ERR_reason_error_string(e) : "handshake failed");
		while (bufferevent_get_openssl_error(bev) != 0)
			;
	} else if (what & BEV_EVENT_EOF)
		strlcpy(why, "connection closed before an answer",
		    sizeof(why));
	else if (err != 0)
		strlcpy(why, evutil_socket_error_to_string(err), sizeof(why));
	else
		strlcpy(why, "connection failed", sizeof(why));

	/* Not connected yet: the next address may answer. */
	if (!cur.at_connected && cur.at_addr + 1 < naddrs) {
		log_debug("webhook %s: address %zu: %s", url_name, cur.at_addr,
		    why);
		bufferevent_free(cur.at_bev);
		cur.at_bev = NULL;
		cur.at_addr++;
		if (notify_connect() == 0)
			return;
		strlcpy(why, "cannot connect", sizeof(why));
	}
	notify_done(0, why);
}

static void
notify_deadline(evutil_socket_t fd, short ev, void *arg)
{
	char	 why[64];

	snprintf(why, sizeof(why), "no answer within %d s",
	    conf->cf_webhook_timeout);
	notify_done(0, why);
}

static int
notify_connect(void)
{
	struct bufferevent	*bev;
	SSL			*ssl;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	int			 ip;

	if (url.wu_tls) {
		if ((ssl = SSL_new(ssl_ctx)) == NULL)
			return -1;
		ip = inet_pton(AF_INET, url.wu_host, &a4) == 1 ||
		    inet_pton(AF_INET6, url.wu_host, &a6) == 1;
		/* The certificate must name the host of the URL. */
		if (ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    url.wu_host) != 1 : (SSL_set1_host(ssl, url.wu_host) != 1 ||
		    SSL_set_tlsext_host_name(ssl, url.wu_host) != 1)) {
			SSL_free(ssl);
			return -1;
		}
		bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL) {
			SSL_free(ssl);
			return -1;
		}
	} else if ((bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return -1;
	cur.at_bev = bev;
	bufferevent_setcb(bev, notify_read, NULL, notify_event, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	/* A failure to connect, now or later, comes to notify_event(). */
	(void)bufferevent_socket_connect(bev,
	    (struct sockaddr *)&addrs[cur.at_addr],
	    (int)addrlens[cur.at_addr]);
	return 0;
}

static void
notify_start(struct nevent *ne)
{
	struct timeval	 tv = { conf->cf_webhook_timeout, 0 };

	memset(&cur, 0, sizeof(cur));
	cur.at_ev = ne;
	evtimer_add(deadline_ev, &tv);
	if (naddrs == 0) {
		notify_done(0, "no address for the webhook's host");
		return;
	}
	if (notify_connect() == -1)
		notify_done(0, "cannot set up the connection");
}

/* Start the delivery that is due, or wake up when one will be. */
static void
notify_next(void)
{
	struct nevent	*ne, *first = NULL;
	struct timeval	 tv = { 0, 0 };
	time_t		 now = time(NULL);

	if (cur.at_ev != NULL)
		return;
	TAILQ_FOREACH(ne, &queue, ne_entry)
		if (first == NULL || ne->ne_due < first->ne_due)
			first = ne;
	if (first == NULL)
		return;
	if (first->ne_due > now) {
		tv.tv_sec = first->ne_due - now;
		evtimer_add(wake_ev, &tv);
		return;
	}
	notify_start(first);
}

static void
notify_wake(evutil_socket_t fd, short ev, void *arg)
{
	notify_next();
}

/* ---- the parent --------------------------------------------------------- */

static int
notify_dispatch(struct msgchan *mc, struct msg_in *mi)
{
	char		 event[NOTICE_EVENT_MAX], user[NOTICE_NAME_MAX];
	char		 vendor[NOTICE_NAME_MAX], target[NOTICE_NAME_MAX];
	char		 actor[NOTICE_NAME_MAX], text[NOTICE_TEXT_MAX];
	struct notice	 n;
	int64_t		 when;
	uint32_t	 emergency;

	if (mi->mi_type != MSG_NOTIFY_EVENT)
		return -1;
	memset(&n, 0, sizeof(n));
	if (m_get_str(mi, event, sizeof(event)) == -1 ||
	    m_get_i64(mi, &when) == -1 ||
	    m_get_i64(mi, &n.n_request) == -1 ||
	    m_get_i64(mi, &n.n_grant) == -1 ||
	    m_get_str(mi, user, sizeof(user)) == -1 ||
	    m_get_str(mi, vendor, sizeof(vendor)) == -1 ||
	    m_get_str(mi, target, sizeof(target)) == -1 ||
	    m_get_str(mi, actor, sizeof(actor)) == -1 ||
	    m_get_str(mi, text, sizeof(text)) == -1 ||
	    m_get_i64(mi, &n.n_starts) == -1 ||
	    m_get_i64(mi, &n.n_ends) == -1 ||
	    m_get_u32(mi, &emergency) == -1 || m_end(mi) == -1 ||
	    event[0] == '\0')
		return -1;
	if (conf->cf_webhook == NULL)
		return 0;
	n.n_event = event;
	n.n_user = user;
	n.n_vendor = vendor;
	n.n_target = target;
	n.n_actor = actor;
	n.n_text = text;
	n.n_emergency = emergency != 0;
	notify_enqueue(&n, (time_t)when);
	notify_next();
	return 0;
}

static void
notify_closed(struct msgchan *mc, const char *why)
{
	log_warnx("channel to %s closed: %s", mc->mc_name, why);
	event_base_loopexit(base, NULL);
}

static void
notify_signal(evutil_socket_t sig, short ev, void *arg)
{
	event_base_loopexit(base, NULL);
}

void
notifier_run(struct pt_config *cf, int parent_fd, int unused)
{
	struct event	*sev;

	conf = cf;
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	sev = evsignal_new(base, SIGTERM, notify_signal, NULL);
	event_add(sev, NULL);
	signal(SIGINT, SIG_IGN);
	/* syslog's socket, opened before the chroot hides it. */
	log_init(pt_rt.rt_foreground, cf->cf_facility);
	if (gethostname(bastion, sizeof(bastion)) == -1)
		bastion[0] = '\0';
	bastion[sizeof(bastion) - 1] = '\0';
	if (cf->cf_webhook != NULL)
		notify_prepare();
	proc_drop_privs(cf, cf->cf_chroot);
	sandbox_apply(SANDBOX_NOTIFY);

	wake_ev = evtimer_new(base, notify_wake, NULL);
	deadline_ev = evtimer_new(base, notify_deadline, NULL);
	parent_chan = msgchan_new(base, parent_fd, "parent", notify_dispatch,
	    notify_closed, NULL);
	event_base_dispatch(base);
	if (nqueued > 0)
		log_warnx("webhook %s: %zu events not delivered at shutdown",
		    url_name, nqueued);
	/* _exit: the sanitizers' exit-time checks need system calls the
	 * sandbox forbids; this process's code is checked by the tests. */
	_exit(0);
}
