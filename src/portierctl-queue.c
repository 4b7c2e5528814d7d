/*
 * portierctl-queue.c: hospital IT's side of the approval queue and of
 * the live sessions: requests, approve, deny, review, grants, revoke,
 * sessions, kill, reload.
 *
 * Times are shown in the local time of the machine portierctl runs on
 * (the bastion); --json gives seconds since the epoch, UTC.  Whatever is
 * refused (a request one filed oneself, a window that is over) comes back
 * from the daemon with what to do instead.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portier.h"
#include "msg.h"
#include "store.h"
#include "portierctl.h"

static const char *
local_time(int64_t t, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (t == 0) {
		strlcpy(buf, "-", len);
		return buf;
	}
	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M", &tm) == 0)
		strlcpy(buf, "?", len);
	return buf;
}

static int64_t
parse_id(const char *what, const char *s)
{
	char		*end;
	long long	 n;

	if (*s == '#')
		s++;
	n = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || n <= 0)
		die("%s: expected a number, as shown by portierctl %ss: \"%s\"",
		    what, what, s);
	return (int64_t)n;
}

static int64_t
parse_from(const char *s)
{
	const char	*tz = getenv("TZ");
	time_t		 t;

	t = policy_parse_time(s, tz != NULL && *tz != '\0' ? tz :
	    ":/etc/localtime", time(NULL));
	if (t == -1)
		die("--from %s: expected \"YYYY-MM-DD HH:MM\" (a real day), "
		    "HH:MM (local time) or now", s);
	if (t < time(NULL) - 60)
		die("--from %s is in the past: give a time to come, or leave "
		    "--from out to start now", s);
	if (t > time(NULL) + 366 * 86400)
		die("--from %s is more than a year ahead", s);
	return (int64_t)t;
}

static void
json_kv(const char *key, const char *value, int first)
{
	printf("%s\"%s\": ", first ? "" : ", ", key);
	json_str(value);
}

/* ---- requests -------------------------------------------------------------- */

struct req_row {
	int64_t		 id, duration, starts, created, decided_at;
	int64_t		 reviewed_at, grant, gstarts, gends;
	uint32_t	 emergency;
	char		 user[STORE_NAME_MAX + 1], vendor[STORE_NAME_MAX + 1];
	char		 target[STORE_NAME_MAX + 1], state[16], source[80];
	char		 reason[STORE_TEXT_MAX + 1], note[STORE_TEXT_MAX + 1];
	char		 decided_by[STORE_ACTOR_MAX + 1];
	char		 reviewed_by[STORE_ACTOR_MAX + 1];
	char		 review_note[STORE_TEXT_MAX + 1];
};

static void
req_read(struct msg_in *mi, struct req_row *r)
{
	if (m_get_i64(mi, &r->id) == -1 ||
	    m_get_str(mi, r->user, sizeof(r->user)) == -1 ||
	    m_get_str(mi, r->vendor, sizeof(r->vendor)) == -1 ||
	    m_get_str(mi, r->target, sizeof(r->target)) == -1 ||
	    m_get_str(mi, r->reason, sizeof(r->reason)) == -1 ||
	    m_get_i64(mi, &r->duration) == -1 ||
	    m_get_i64(mi, &r->starts) == -1 ||
	    m_get_u32(mi, &r->emergency) == -1 ||
	    m_get_str(mi, r->state, sizeof(r->state)) == -1 ||
	    m_get_i64(mi, &r->created) == -1 ||
	    m_get_str(mi, r->source, sizeof(r->source)) == -1 ||
	    m_get_str(mi, r->decided_by, sizeof(r->decided_by)) == -1 ||
	    m_get_i64(mi, &r->decided_at) == -1 ||
	    m_get_str(mi, r->note, sizeof(r->note)) == -1 ||
	    m_get_str(mi, r->reviewed_by, sizeof(r->reviewed_by)) == -1 ||
	    m_get_i64(mi, &r->reviewed_at) == -1 ||
	    m_get_str(mi, r->review_note, sizeof(r->review_note)) == -1 ||
	    m_get_i64(mi, &r->grant) == -1 ||
	    m_get_i64(mi, &r->gstarts) == -1 ||
	    m_get_i64(mi, &r->gends) == -1 || m_end(mi) == -1)
		ctl_bad();
}

static void
req_json(const struct req_row *r, int first)
{
	printf("%s\n {\"id\": %lld", first ? "" : ",", (long long)r->id);
	json_kv("user", r->user, 0);
	json_kv("vendor", r->vendor, 0);
	json_kv("target", r->target, 0);
	json_kv("state", r->state, 0);
	json_kv("reason", r->reason, 0);
	printf(", \"duration\": %lld, \"starts\": %lld, \"emergency\": %s, "
	    "\"created\": %lld", (long long)r->duration, (long long)r->starts,
	    r->emergency ? "true" : "false", (long long)r->created);
	json_kv("source", r->source, 0);
	json_kv("decided_by", r->decided_by, 0);
	printf(", \"decided_at\": %lld", (long long)r->decided_at);
	json_kv("note", r->note, 0);
	json_kv("reviewed_by", r->reviewed_by, 0);
	printf(", \"reviewed_at\": %lld", (long long)r->reviewed_at);
	json_kv("review_note", r->review_note, 0);
	printf(", \"grant\": %lld, \"grant_starts\": %lld, \"grant_ends\": "
	    "%lld, \"needs_review\": %s}", (long long)r->grant,
	    (long long)r->gstarts, (long long)r->gends,
	    r->emergency && r->reviewed_at == 0 ? "true" : "false");
}

static void
req_text(const struct req_row *r, int first)
{
	char	 a[32], b[32], dur[16], when[80];

	if (first)
		printf("%-6s %-9s %-12s %-14s %-16s %-28s %s\n", "ID", "STATE",
		    "USER", "VENDOR", "TARGET", "WANTED", "REASON");
	if (r->starts != 0)
		snprintf(when, sizeof(when), "%s from %s",
		    policy_duration_str(r->duration, dur, sizeof(dur)),
		    local_time(r->starts, a, sizeof(a)));
	else
		snprintf(when, sizeof(when), "%s, when approved",
		    policy_duration_str(r->duration, dur, sizeof(dur)));
	printf("#%-5lld %-9s %-12s %-14s %-16s %-28s %s\n", (long long)r->id,
	    r->state, r->user, r->vendor, r->target, when, r->reason);
	printf("       filed %s from %s%s\n", local_time(r->created, a,
	    sizeof(a)), r->source[0] != '\0' ? r->source : "?",
	    r->emergency ? ", EMERGENCY" : "");
	if (r->decided_by[0] != '\0')
		printf("       %s by %s at %s%s%s\n", r->state, r->decided_by,
		    local_time(r->decided_at, a, sizeof(a)),
		    r->note[0] != '\0' ? ": " : "", r->note);
	if (r->grant != 0)
		printf("       grant #%lld from %s to %s\n", (long long)r->grant,
		    local_time(r->gstarts, a, sizeof(a)),
		    local_time(r->gends, b, sizeof(b)));
	if (r->emergency && r->reviewed_at == 0)
		printf("       NEEDS REVIEW: portierctl review %lld --note "
		    "\"...\"\n", (long long)r->id);
	else if (r->reviewed_by[0] != '\0')
		printf("       reviewed by %s at %s: %s\n", r->reviewed_by,
		    local_time(r->reviewed_at, a, sizeof(a)), r->review_note);
}

int
run_requests(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON,
	    { "pending", no_argument, NULL, OPT_PENDING },
	    { "needs-review", no_argument, NULL, OPT_NEEDS_REVIEW },
	    { "user", required_argument, NULL, OPT_USER },
	    { "since", required_argument, NULL, OPT_SINCE }, O_END };
	struct cmd_args	 ca;
	struct req_row	 r;
	struct msg_in	*mi;
	struct msg	*m;
	int		 fd, first = 1;

	cmd_parse("requests", argc, argv, opts, 0, &ca);
	m = m_create(MSG_CTL_REQUESTS, 0, -1);
	m_add_u32(m, (ca.pending ? STORE_RQ_PENDING : 0) |
	    (ca.needs_review ? STORE_RQ_REVIEW : 0));
	m_add_i64(m, ca.since != NULL ? parse_since(ca.since) : 0);
	m_add_str(m, ca.user != NULL ? ca.user : "");
	fd = ctl_connect();
	ctl_send(fd, m);
	if (json)
		printf("[");
	for (;;) {
		mi = ctl_recv(fd);
		if (mi->mi_type == MSG_CTL_END)
			break;
		if (mi->mi_type != MSG_CTL_REQUEST_INFO)
			ctl_bad();
		memset(&r, 0, sizeof(r));
		req_read(mi, &r);
		if (json)
			req_json(&r, first);
		else
			req_text(&r, first);
		first = 0;
	}
	if (json)
		printf("%s]\n", first ? "" : "\n");
	else if (first)
		printf("no %srequests\n", ca.pending ? "pending " :
		    ca.needs_review ? "emergency access to review: no " : "");
	return 0;
}

int
run_approve(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON,
	    { "for", required_argument, NULL, OPT_FOR },
	    { "from", required_argument, NULL, OPT_FROM },
	    { "note", required_argument, NULL, OPT_NOTE }, O_END };
	struct cmd_args	 ca;
	struct msg	*m;
	int64_t		 dur = 0;

	cmd_parse("approve", argc, argv, opts, 1, &ca);
	cmd_need("approve", &ca, 1, "a request id");
	if (ca.dur != NULL &&
	    (dur = policy_duration(ca.dur, 365 * 86400)) == -2)
		die("--for %s: at most a year (365d)", ca.dur);
	if (ca.dur != NULL && dur < 60)
		die("--for %s: expected a duration of a minute or more, as "
		    "30m, 2h or 1h30m", ca.dur);
	m = m_create(MSG_CTL_APPROVE, 0, -1);
	m_add_i64(m, parse_id("request", ca.a[0]));
	m_add_i64(m, ca.from != NULL ? parse_from(ca.from) : 0);
	m_add_i64(m, dur);
	m_add_str(m, ca.note != NULL ? ca.note : "");
	return ctl_request_ok(ctl_connect(), m);
}

/* DENY, REVOKE, KILL: an id and a reason the vendor reads. */
static int
run_with_reason(const char *cmd, enum msg_type type, const char *what,
    int argc, char **argv)
{
	static const struct option opts[] = { O_JSON,
	    { "reason", required_argument, NULL, OPT_REASON }, O_END };
	struct cmd_args	 ca;
	struct msg	*m;

	cmd_parse(cmd, argc, argv, opts, 1, &ca);
	cmd_need(cmd, &ca, 1, what);
	if (ca.reason == NULL || ca.reason[0] == '\0')
		die("%s: --reason TEXT is required: the vendor reads it, and "
		    "the audit trail keeps it", cmd);
	m = m_create(type, 0, -1);
	if (type == MSG_CTL_KILL)
		m_add_str(m, ca.a[0]);
	else
		m_add_i64(m, parse_id(type == MSG_CTL_DENY ? "request" :
		    "grant", ca.a[0]));
	m_add_str(m, ca.reason);
	return ctl_request_ok(ctl_connect(), m);
}

int
run_deny(int argc, char **argv)
{
	return run_with_reason("deny", MSG_CTL_DENY, "a request id", argc,
	    argv);
}

int
run_revoke(int argc, char **argv)
{
	return run_with_reason("revoke", MSG_CTL_REVOKE, "a grant id", argc,
	    argv);
}

int
run_kill(int argc, char **argv)
{
	return run_with_reason("kill", MSG_CTL_KILL, "a session id", argc,
	    argv);
}

int
run_review(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON,
	    { "note", required_argument, NULL, OPT_NOTE }, O_END };
	struct cmd_args	 ca;
	struct msg	*m;

	cmd_parse("review", argc, argv, opts, 1, &ca);
	cmd_need("review", &ca, 1, "a request id");
	if (ca.note == NULL || ca.note[0] == '\0')
		die("review: --note TEXT is required: say what the review "
		    "found");
	m = m_create(MSG_CTL_REVIEW, 0, -1);
	m_add_i64(m, parse_id("request", ca.a[0]));
	m_add_str(m, ca.note);
	return ctl_request_ok(ctl_connect(), m);
}

/* ---- grants ------------------------------------------------------------------ */

int
run_grants(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON,
	    { "all", no_argument, NULL, OPT_ALL }, O_END };
	struct cmd_args	 ca;
	struct msg_in	*mi;
	struct msg	*m;
	char		 user[STORE_NAME_MAX + 1], vendor[STORE_NAME_MAX + 1];
	char		 target[STORE_NAME_MAX + 1], by[STORE_ACTOR_MAX + 1];
	char		 rby[STORE_ACTOR_MAX + 1], rwhy[STORE_TEXT_MAX + 1];
	char		 a[32], b[32], c[32];
	int64_t		 id, request, starts, ends, created, rat;
	uint32_t	 emergency;
	time_t		 now = time(NULL);
	int		 fd, first = 1;

	cmd_parse("grants", argc, argv, opts, 0, &ca);
	m = m_create(MSG_CTL_GRANTS, 0, -1);
	m_add_u32(m, ca.all);
	fd = ctl_connect();
	ctl_send(fd, m);
	if (json)
		printf("[");
	for (;;) {
		mi = ctl_recv(fd);
		if (mi->mi_type == MSG_CTL_END)
			break;
		if (mi->mi_type != MSG_CTL_GRANT_INFO ||
		    m_get_i64(mi, &id) == -1 || m_get_i64(mi, &request) == -1 ||
		    m_get_str(mi, user, sizeof(user)) == -1 ||
		    m_get_str(mi, vendor, sizeof(vendor)) == -1 ||
		    m_get_str(mi, target, sizeof(target)) == -1 ||
		    m_get_i64(mi, &starts) == -1 || m_get_i64(mi, &ends) == -1 ||
		    m_get_u32(mi, &emergency) == -1 ||
		    m_get_i64(mi, &created) == -1 ||
		    m_get_str(mi, by, sizeof(by)) == -1 ||
		    m_get_str(mi, rby, sizeof(rby)) == -1 ||
		    m_get_i64(mi, &rat) == -1 ||
		    m_get_str(mi, rwhy, sizeof(rwhy)) == -1 || m_end(mi) == -1)
			ctl_bad();
		if (json) {
			printf("%s\n {\"id\": %lld, \"request\": %lld",
			    first ? "" : ",", (long long)id,
			    (long long)request);
			json_kv("user", user, 0);
			json_kv("vendor", vendor, 0);
			json_kv("target", target, 0);
			printf(", \"starts\": %lld, \"ends\": %lld, "
			    "\"emergency\": %s, \"created\": %lld",
			    (long long)starts, (long long)ends,
			    emergency ? "true" : "false", (long long)created);
			json_kv("created_by", by, 0);
			json_kv("revoked_by", rby, 0);
			printf(", \"revoked_at\": %lld", (long long)rat);
			json_kv("revoke_reason", rwhy, 0);
			printf("}");
		} else {
			if (first)
				printf("%-6s %-8s %-14s %-16s %-17s %-17s %-8s "
				    "%s\n", "GRANT", "REQUEST", "FOR",
				    "TARGET", "FROM", "TO", "STATE", "BY");
			printf("#%-5lld %-8s %-14s %-16s %-17s %-17s %-8s %s%s\n",
			    (long long)id, request != 0 ? "" : "-",
			    user[0] != '\0' ? user : vendor, target,
			    local_time(starts, a, sizeof(a)),
			    local_time(ends, b, sizeof(b)),
			    rby[0] != '\0' ? "revoked" : ends <= now ?
			    "over" : starts > now ? "to come" : "open", by,
			    emergency ? " (emergency)" : "");
			if (request != 0)
				printf("       request #%lld\n",
				    (long long)request);
			if (rby[0] != '\0')
				printf("       revoked by %s at %s: %s\n", rby,
				    local_time(rat, c, sizeof(c)), rwhy);
		}
		first = 0;
	}
	if (json)
		printf("%s]\n", first ? "" : "\n");
	else if (first)
		printf("no %sgrants\n", ca.all ? "" : "live or future ");
	return 0;
}

/* ---- sessions ----------------------------------------------------------------- */

int
run_sessions(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON, O_END };
	struct cmd_args	 ca;
	struct msg_in	*mi;
	char		 sid[PT_SID_LEN + 1], user[STORE_NAME_MAX + 1];
	char		 vendor[STORE_NAME_MAX + 1], target[STORE_NAME_MAX + 1];
	char		 peer[80], state[32], a[32], b[32];
	int64_t		 since, end, grant, request, in, out;
	uint32_t	 pid;
	int		 fd, first = 1;

	cmd_parse("sessions", argc, argv, opts, 0, &ca);
	fd = ctl_connect();
	ctl_send(fd, m_create(MSG_CTL_SESSIONS, 0, -1));
	if (json)
		printf("[");
	for (;;) {
		mi = ctl_recv(fd);
		if (mi->mi_type == MSG_CTL_END)
			break;
		if (mi->mi_type != MSG_CTL_SESSION_INFO ||
		    m_get_str(mi, sid, sizeof(sid)) == -1 ||
		    m_get_str(mi, user, sizeof(user)) == -1 ||
		    m_get_str(mi, vendor, sizeof(vendor)) == -1 ||
		    m_get_str(mi, target, sizeof(target)) == -1 ||
		    m_get_str(mi, peer, sizeof(peer)) == -1 ||
		    m_get_str(mi, state, sizeof(state)) == -1 ||
		    m_get_i64(mi, &since) == -1 || m_get_i64(mi, &end) == -1 ||
		    m_get_i64(mi, &grant) == -1 ||
		    m_get_i64(mi, &request) == -1 ||
		    m_get_i64(mi, &in) == -1 || m_get_i64(mi, &out) == -1 ||
		    m_get_u32(mi, &pid) == -1 || m_end(mi) == -1)
			ctl_bad();
		if (json) {
			printf("%s\n {", first ? "" : ",");
			json_kv("session", sid, 1);
			json_kv("user", user, 0);
			json_kv("vendor", vendor, 0);
			json_kv("target", target, 0);
			json_kv("source", peer, 0);
			json_kv("state", state, 0);
			printf(", \"since\": %lld, \"window_end\": %lld, "
			    "\"grant\": %lld, \"request\": %lld, "
			    "\"bytes_in\": %lld, \"bytes_out\": %lld, "
			    "\"pid\": %u}", (long long)since, (long long)end,
			    (long long)grant, (long long)request,
			    (long long)in, (long long)out, pid);
		} else {
			if (first)
				printf("%-16s %-12s %-14s %-16s %-22s %-13s "
				    "%-16s %-16s %10s %10s\n", "SESSION",
				    "USER", "VENDOR", "TARGET", "SOURCE",
				    "STATE", "SINCE", "WINDOW END", "IN",
				    "OUT");
			printf("%-16s %-12s %-14s %-16s %-22s %-13s %-16s "
			    "%-16s %10lld %10lld\n", sid,
			    user[0] ? user : "-", vendor[0] ? vendor : "-",
			    target[0] ? target : "-", peer, state,
			    local_time(since, a, sizeof(a)),
			    local_time(end, b, sizeof(b)), (long long)in,
			    (long long)out);
		}
		first = 0;
	}
	if (json)
		printf("%s]\n", first ? "" : "\n");
	else if (first)
		printf("no live sessions\n");
	return 0;
}

int
run_reload(int argc, char **argv)
{
	static const struct option opts[] = { O_JSON, O_END };
	struct cmd_args	 ca;

	cmd_parse("reload", argc, argv, opts, 0, &ca);
	return ctl_request_ok(ctl_connect(), m_create(MSG_CTL_RELOAD, 0, -1));
}
