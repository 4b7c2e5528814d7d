/*
 * monitor-notify.c: telling hospital IT what happened.
 *
 * A decision the monitor makes that IT must hear about (a request, an
 * approval, an emergency access, a lockout) becomes a notice: one syslog
 * line now, and a message to the notifier process, by way of the parent,
 * which posts it to the webhook.  Nothing here waits: the channel to the
 * parent queues the message and the monitor goes on deciding, whatever
 * state the webhook is in.  A notice carries no secret, by construction.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "portier.h"
#include "msg.h"

/* A string for the log: at most LEN - 1 bytes, unprintable bytes as '?',
 * so that a user name typed by a vendor cannot forge a log line. */
static const char *
notice_clean(const char *s, char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = (s[i] >= ' ' && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static void	notice_append(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
notice_append(char *line, size_t len, const char *fmt, ...)
{
	size_t	 used = strlen(line);
	va_list	 ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(line + used, len - used, fmt, ap);
	va_end(ap);
}

static void
notice_log_field(char *line, size_t len, const char *name, const char *val)
{
	char	 clean[NOTICE_NAME_MAX];

	if (val == NULL || *val == '\0')
		return;
	notice_append(line, len, " %s=%s", name,
	    notice_clean(val, clean, sizeof(clean)));
}

/* An over-long string is cut, not refused: the notice must go out. */
static void
notice_add_str(struct msg *m, const char *s, size_t max)
{
	char	 buf[NOTICE_TEXT_MAX];

	if (s == NULL)
		s = "";
	strlcpy(buf, s, max < sizeof(buf) ? max : sizeof(buf));
	m_add_str(m, buf);
}

void
mon_notify(const struct notice *n)
{
	struct msg	*m;
	char		 line[1024];
	time_t		 now = time(NULL);

	if (n->n_event == NULL || *n->n_event == '\0')
		return;
	snprintf(line, sizeof(line), "notice: %s", n->n_event);
	if (n->n_request != 0)
		notice_append(line, sizeof(line), " request=%lld",
		    (long long)n->n_request);
	if (n->n_grant != 0)
		notice_append(line, sizeof(line), " grant=%lld",
		    (long long)n->n_grant);
	notice_log_field(line, sizeof(line), "user", n->n_user);
	notice_log_field(line, sizeof(line), "vendor", n->n_vendor);
	notice_log_field(line, sizeof(line), "target", n->n_target);
	notice_log_field(line, sizeof(line), "actor", n->n_actor);
	notice_log_field(line, sizeof(line), "text", n->n_text);
	if (n->n_emergency)
		notice_append(line, sizeof(line), " emergency");
	if (strcmp(n->n_event, "access.emergency") == 0 ||
	    strcmp(n->n_event, "user.lockout") == 0)
		log_alert("%s", line);
	else
		log_info("%s", line);

	if (mon_parent == NULL)
		return;
	m = m_create(MSG_NOTIFY_EVENT, 0, -1);
	notice_add_str(m, n->n_event, NOTICE_EVENT_MAX);
	m_add_i64(m, now);
	m_add_i64(m, n->n_request);
	m_add_i64(m, n->n_grant);
	notice_add_str(m, n->n_user, NOTICE_NAME_MAX);
	notice_add_str(m, n->n_vendor, NOTICE_NAME_MAX);
	notice_add_str(m, n->n_target, NOTICE_NAME_MAX);
	notice_add_str(m, n->n_actor, NOTICE_NAME_MAX);
	notice_add_str(m, n->n_text, NOTICE_TEXT_MAX);
	m_add_i64(m, n->n_starts);
	m_add_i64(m, n->n_ends);
	m_add_u32(m, n->n_emergency != 0);
	if (msgchan_send(mon_parent, m) == -1)
		log_warnx("notice %s: not passed on to the notifier",
		    n->n_event);
}
