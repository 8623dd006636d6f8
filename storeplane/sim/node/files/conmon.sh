#!/bin/sh
# conmon: the parent of one container process, as CRI-O's conmon is. Started by
# storeplane.sim.node.process (in its own session, output already going to the log file).
#   conmon.sh STATE_DIR ARGV...
# Writes the container's pid to STATE_DIR/pid and, when it ends, its exit code (128+signal
# when a signal ended it) to STATE_DIR/exit, so a simulator that was restarted in between
# still learns how its container ended. SIGTERM and SIGINT are passed on to the container.
state="$1"
shift
"$@" </dev/null &
child=$!
echo "$child" >"$state/pid.tmp" && mv "$state/pid.tmp" "$state/pid"
trap 'kill -TERM "$child" 2>/dev/null' TERM
trap 'kill -INT "$child" 2>/dev/null' INT
while :; do
    wait "$child"
    code=$?
    # wait also returns when a trapped signal arrives: go on waiting while the child lives.
    kill -0 "$child" 2>/dev/null || break
done
echo "$code" >"$state/exit.tmp" && mv "$state/exit.tmp" "$state/exit"
exit "$code"
