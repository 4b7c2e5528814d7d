/*
 * webhook.c: what the notifier sends and when, without any I/O.
 *
 * The webhook's URL as portier.conf gives it, the JSON document one event
 * becomes, the schedule of retries after a failed delivery, and the one
 * line of the answer the notifier reads.  parse.y checks the URL with the
 * same function the notifier uses, so "portierd -n" refuses what the
 * notifier could not use.  Every string in a document is escaped here:
 * a user name comes from the network, a reason from a vendor.
 */
#include "config.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portier.h"

/* ---- the URL ------------------------------------------------------------ */

static const char host_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-";

int
webhook_url_parse(const char *url, struct webhook_url *wu, const char **why)
{
	const char	*p, *host, *end;
	size_t		 hlen, i;
	char		*ep;
	long		 port;
	struct in6_addr	 in6;

	memset(wu, 0, sizeof(*wu));
	if (strlen(url) >= PT_WEBHOOK_URL_MAX) {
		*why = "too long (at most 1023 characters)";
		return -1;
	}
	for (i = 0; url[i] != '\0'; i++)
		if ((unsigned char)url[i] <= ' ' ||
		    (unsigned char)url[i] >= 0x7f) {
			*why = "only printable ASCII without spaces may appear "
			    "in it (percent-encode the rest)";
			return -1;
		}
	if (strncasecmp(url, "https://", 8) == 0) {
		wu->wu_tls = 1;
		wu->wu_port = 443;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		wu->wu_port = 80;
		p = url + 7;
	} else {
		*why = "it must begin with https:// (or http:// for a relay "
		    "on this host)";
		return -1;
	}
	if (strchr(p, '#') != NULL) {
		*why = "a fragment (#...) is never sent to a server: remove it";
		return -1;
	}
	end = p + strcspn(p, "/?");
	if (memchr(p, '@', (size_t)(end - p)) != NULL) {
		*why = "credentials (user@) are not supported in it";
		return -1;
	}

	host = p;
	if (*p == '[') {
		host = p + 1;
		if ((p = memchr(host, ']', (size_t)(end - host))) == NULL) {
			*why = "an IPv6 address needs its closing ']'";
			return -1;
		}
		hlen = (size_t)(p - host);
		p++;
		if (hlen == 0 || hlen >= sizeof(wu->wu_host))
			goto badhost;
		memcpy(wu->wu_host, host, hlen);
		if (inet_pton(AF_INET6, wu->wu_host, &in6) != 1)
			goto badhost;
	} else {
		p = host + strcspn(host, ":/?");
		hlen = (size_t)(p - host);
		if (hlen == 0 || hlen > 253 || host[0] == '-' ||
		    host[0] == '.' || strspn(host, host_chars) < hlen)
			goto badhost;
		memcpy(wu->wu_host, host, hlen);
	}
	if (*p == ':') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto badport;
		port = strtol(p, &ep, 10);
		if (ep != end || port < 1 || port > 65535)
			goto badport;
		wu->wu_port = (int)port;
		p = end;
	}
	if (p != end) {
		*why = "unexpected characters after the host";
		return -1;
	}
	if (*p == '\0')
		strlcpy(wu->wu_path, "/", sizeof(wu->wu_path));
	else if (*p == '?')
		snprintf(wu->wu_path, sizeof(wu->wu_path), "/%s", p);
	else
		strlcpy(wu->wu_path, p, sizeof(wu->wu_path));
	return 0;

badhost:
	*why = "the host must be a name, an IPv4 address or an IPv6 "
	    "address in []";
	return -1;
badport:
	*why = "the port must be a number from 1 to 65535";
	return -1;
}

/* ---- the document ------------------------------------------------------- */

struct jbuf {
	char	*jb_p;
	size_t	 jb_len;
	size_t	 jb_cap;
};

static void
jb_add(struct jbuf *jb, const char *s, size_t n)
{
	if (jb->jb_len + n + 1 > jb->jb_cap) {
		while (jb->jb_len + n + 1 > jb->jb_cap)
			jb->jb_cap = jb->jb_cap ? jb->jb_cap * 2 : 512;
		jb->jb_p = xreallocarray(jb->jb_p, jb->jb_cap, 1);
	}
	memcpy(jb->jb_p + jb->jb_len, s, n);
	jb->jb_len += n;
	jb->jb_p[jb->jb_len] = '\0';
}

static void
jb_puts(struct jbuf *jb, const char *s)
{
	jb_add(jb, s, strlen(s));
}

/* Length of the well-formed UTF-8 sequence at S (of N bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t		 len, i;
	uint32_t	 cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* A JSON string: quotes, backslashes and control characters escaped, a
 * byte that is not well-formed UTF-8 replaced by U+FFFD. */
static void
jb_string(struct jbuf *jb, const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n = strlen(str), len;
	char			 esc[8];

	jb_puts(jb, "\"");
	while (n > 0) {
		switch (*s) {
		case '"':
			jb_puts(jb, "\\\"");
			break;
		case '\\':
			jb_puts(jb, "\\\\");
			break;
		case '\n':
			jb_puts(jb, "\\n");
			break;
		case '\r':
			jb_puts(jb, "\\r");
			break;
		case '\t':
			jb_puts(jb, "\\t");
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", *s);
				jb_puts(jb, esc);
				break;
			}
			if ((len = utf8_len(s, n)) == 0) {
				jb_puts(jb, "\\ufffd");
				break;
			}
			jb_add(jb, (const char *)s, len);
			s += len;
			n -= len;
			continue;
		}
		s++;
		n--;
	}
	jb_puts(jb, "\"");
}

static void
jb_field_str(struct jbuf *jb, const char *name, const char *val)
{
	if (val == NULL || *val == '\0')
		return;
	jb_puts(jb, ",\"");
	jb_puts(jb, name);
	jb_puts(jb, "\":");
	jb_string(jb, val);
}

static void
jb_field_int(struct jbuf *jb, const char *name, int64_t val)
{
	char	 num[32];

	if (val == 0)
		return;
	snprintf(num, sizeof(num), ",\"%s\":%lld", name, (long long)val);
	jb_puts(jb, num);
}

static void
jb_field_time(struct jbuf *jb, const char *name, int64_t val)
{
	char	 iso[32];

	if (val == 0)
		return;
	jb_field_str(jb, name, time_iso((time_t)val, iso, sizeof(iso)));
}

/*
 * {"version":1,"event":"user.lockout","time":"2026-11-24T13:00:00Z",...}
 * A field without a value (NULL, "", 0) is left out; "emergency" is
 * always there.  doc/portier.conf.5 lists the fields.
 */
char *
webhook_json(const struct notice *n, time_t when, const char *bastion)
{
	struct jbuf	 jb = { NULL, 0, 0 };

	jb_puts(&jb, "{\"version\":1");
	jb_field_str(&jb, "event", n->n_event);
	jb_field_time(&jb, "time", when);
	jb_field_int(&jb, "request", n->n_request);
	jb_field_int(&jb, "grant", n->n_grant);
	jb_field_str(&jb, "user", n->n_user);
	jb_field_str(&jb, "vendor", n->n_vendor);
	jb_field_str(&jb, "target", n->n_target);
	jb_field_str(&jb, "actor", n->n_actor);
	jb_field_str(&jb, "text", n->n_text);
	jb_field_time(&jb, "starts", n->n_starts);
	jb_field_time(&jb, "ends", n->n_ends);
	jb_puts(&jb, n->n_emergency ? ",\"emergency\":true" :
	    ",\"emergency\":false");
	jb_field_str(&jb, "bastion", bastion);
	jb_puts(&jb, "}");
	return jb.jb_p;
}

/* ---- retries ------------------------------------------------------------ */

#define WEBHOOK_GIVE_UP	720	/* times the first delay: 1 h for 5 s */

int
webhook_retry_delay(int failures, time_t first, time_t now, int base)
{
	static const int mult[] = { 1, 6, 24, 120 };
	int		 delay;

	if (failures < 1 || base < 1)
		return -1;
	if (failures > (int)(sizeof(mult) / sizeof(mult[0])))
		failures = sizeof(mult) / sizeof(mult[0]);
	delay = mult[failures - 1] * base;
	if (now - first + delay > (time_t)WEBHOOK_GIVE_UP * base)
		return -1;
	return delay;
}

/* ---- the answer --------------------------------------------------------- */

/* "HTTP/1.1 204 No Content": 204.  Anything else: -1. */
int
webhook_status(const char *line)
{
	if (strncmp(line, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)line[7]) || line[8] != ' ' ||
	    !isdigit((unsigned char)line[9]) ||
	    !isdigit((unsigned char)line[10]) ||
	    !isdigit((unsigned char)line[11]) ||
	    (line[12] != ' ' && line[12] != '\0') || line[9] < '1')
		return -1;
	return (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
}
