/work/wt-ipc/build-mix/b/daemon/slmd --config /tmp/ipct/slmd.yaml > /tmp/ipct/l3.log 2>&1 &
PID=$!
sleep 1; kill $PID; wait $PID; echo "exit $?"; tail -3 /tmp/ipct/l3.log
