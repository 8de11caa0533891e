"""Runs a command and prints {"seconds", "maxRssBytes", "cpuSeconds", "code", "stdout"} as JSON.

Node cannot read a child's resource usage; getrusage(RUSAGE_CHILDREN) after waiting gives the peak
RSS of the largest process the command ran, here the measured Node process itself.
"""
import json
import resource
import subprocess
import sys
import time

started = time.monotonic()
completed = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.monotonic() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
peak = usage.ru_maxrss * 1024
sys.stderr.write(completed.stderr)
print(json.dumps({"seconds": seconds, "maxRssBytes": peak, "cpuSeconds": usage.ru_utime + usage.ru_stime, "code": completed.returncode, "stdout": completed.stdout}))
