#!/bin/sh
# askpass.sh: answers Portier's login prompts for the integration tests,
# as SSH_ASKPASS with SSH_ASKPASS_REQUIRE=force.
#
#   PT_PASSWORD     the answer to "Password:"
#   PT_TOTP_SECRET  base32 seed; codes come from oathtool, independently
#   PT_TOTP_STATE   file holding the last time step used: Portier refuses
#                   a code twice, so each login takes the next step
#                   (waiting for it when three are used up)
#   PT_TOTP_STEP    force a step: "replay" (the last one again), "old"
#                   (three steps ago), or a number
#   PT_ASKPASS_LOG  if set, a line per code given: when, and which step
#                   (never the code), for a failing test to show
case "$1" in
*Password*)
	printf '%s\n' "$PT_PASSWORD"
	;;
*code*)
	cur=$(( $(date +%s) / 30 ))
	last=$(cat "$PT_TOTP_STATE" 2>/dev/null || echo 0)
	case "${PT_TOTP_STEP:-}" in
	replay) step=$last ;;
	old) step=$((cur - 3)) ;;
	"")
		step=$((last + 1))
		[ "$step" -ge "$cur" ] || step=$cur
		while [ "$step" -gt $((cur + 1)) ]; do
			sleep 1
			cur=$(( $(date +%s) / 30 ))
		done
		# The next step, just after a step began: portierd's time()
		# reads a clock that may still be a few milliseconds in the
		# last step, where this code would be two steps ahead.
		if [ "$step" -gt "$cur" ] && [ $(( $(date +%s) % 30 )) -lt 2 ]; then
			sleep 2
		fi
		echo "$step" > "$PT_TOTP_STATE"
		;;
	*) step=$PT_TOTP_STEP ;;
	esac
	code=$(oathtool --totp -b --now "@$((step * 30))" "$PT_TOTP_SECRET") ||
	    echo "askpass.sh: oathtool failed" >&2
	[ -z "${PT_ASKPASS_LOG:-}" ] || echo "$(date +%T.%N) ${PT_TOTP_STATE##*/}:" \
	    "step $step (now $(( $(date +%s) / 30 )), last $last, ${#code} digits)" \
	    >> "$PT_ASKPASS_LOG"
	printf '%s\n' "$code"
	;;
*)
	echo "askpass.sh: unexpected prompt: $1" >&2
	exit 1
	;;
esac
