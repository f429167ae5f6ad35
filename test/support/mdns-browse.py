"""A real mDNS/DNS-SD browser for tests (python3-zeroconf): browses the
service types given comma-separated and prints one JSON line per event on stdout, "added" with the
resolved SRV/TXT/A data and "removed" when the service says goodbye. Exits
when stdin closes or after the time bound given on the command line."""
import json
import sys
import threading

from zeroconf import IPVersion, ServiceBrowser, ServiceStateChange, Zeroconf

service_types, bound_seconds = sys.argv[1].split(","), float(sys.argv[2])
lock = threading.Lock()


def emit(obj):
    with lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def on_change(zeroconf, service_type, name, state_change):
    if state_change is ServiceStateChange.Added:
        info = zeroconf.get_service_info(service_type, name, timeout=5000)
        if info is None:
            emit({"event": "unresolved", "name": name})
            return
        txt = {k.decode(): (v.decode() if v is not None else None) for k, v in info.properties.items()}
        emit({"event": "added", "type": service_type, "name": name, "port": info.port, "server": info.server,
              "addresses": info.parsed_addresses(), "txt": txt})
    elif state_change is ServiceStateChange.Removed:
        emit({"event": "removed", "name": name})


zc = Zeroconf(ip_version=IPVersion.V4Only)
browser = ServiceBrowser(zc, service_types, handlers=[on_change])
emit({"event": "browsing"})
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
done.wait(bound_seconds)
browser.cancel()
zc.close()
