/*
 * monitor-notify.c: events hospital IT is told about, as a syslog line.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "portier.h"

void
mon_notify(const struct notice *n)
{
	if (strcmp(n->n_event, "access.emergency") == 0)
		log_alert("notify: %s request=%lld user=%s target=%s",
		    n->n_event, (long long)n->n_request,
		    n->n_user ? n->n_user : "-", n->n_target ? n->n_target : "-");
	else
		log_info("notify: %s request=%lld user=%s target=%s",
		    n->n_event, (long long)n->n_request,
		    n->n_user ? n->n_user : "-", n->n_target ? n->n_target : "-");
}
