"""The official `kubernetes` client against the embedded HTTPS API server, through its kubeconfig."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from kstor.sim.apiserver.resources import RESOURCES
from kstor.sim.testing import SimServerThread, wait_for


@pytest.fixture
def bare() -> Iterator[SimServerThread]:
    with SimServerThread(with_controllers=False) as server:
        yield server


@pytest.fixture
def api(bare: SimServerThread) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(bare.kubeconfig))


def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


def pv_body(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": f"/data/{name}"},
        },
    }


def pod_body(name: str, labels: dict[str, str] | None = None, node: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": "nginx:1.27"}]}
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": spec,
    }


def raw(
    api: client.ApiClient,
    method: str,
    path: str,
    *,
    query: list[tuple[str, str]] | None = None,
    body: Any = None,
    content_type: str = "application/json",
) -> tuple[int, bytes]:
    """A request the typed client cannot make (other patch types, raw watch lines)."""
    method_, url, headers, body_, _ = api.param_serialize(
        method,
        path,
        query_params=query or [],
        body=body,
        auth_settings=["BearerToken"],
        header_params={"Content-Type": content_type, "Accept": "application/json"},
    )
    resp = api.call_api(method_, url, header_params=headers, body=body_, _request_timeout=10)
    resp.read()
    return resp.status, resp.data


def status_of(exc: ApiException) -> dict[str, Any]:
    return json.loads(exc.body)


def test_kubeconfig_is_private_and_server_on_loopback(bare: SimServerThread) -> None:
    assert stat.S_IMODE(os.stat(bare.kubeconfig).st_mode) == 0o600
    text = bare.kubeconfig.read_text()
    assert "certificate-authority-data" in text and "insecure-skip-tls-verify" not in text
    assert "current-context: kstor-sim" in text
    host, port = bare.call(bare.api.bound_address)
    assert host == "127.0.0.1" and bare.server == f"https://127.0.0.1:{port}"


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_requests_without_the_token_get_401(bare: SimServerThread, token: str | None) -> None:
    http = urllib3.PoolManager(ca_certs=None, cert_reqs="CERT_NONE")
    urllib3.disable_warnings()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = http.request("GET", f"{bare.server}/api/v1/persistentvolumes", headers=headers)
    body = json.loads(resp.data)
    assert resp.status == 401
    assert body["kind"] == "Status" and body["reason"] == "Unauthorized" and body["code"] == 401


def test_create_list_get_and_not_found(api: client.ApiClient) -> None:
    v1 = core(api)
    v1.create_persistent_volume(pv_body("pv-a"))
    names = [pv.metadata.name for pv in v1.list_persistent_volume().items]
    assert names == ["pv-a"]
    assert v1.read_persistent_volume("pv-a").metadata.finalizers == ["kubernetes.io/pv-protection"]
    with pytest.raises(ApiException) as err:
        v1.read_persistent_volume("missing")
    assert err.value.status == 404
    assert status_of(err.value)["message"] == 'persistentvolumes "missing" not found'
    assert status_of(err.value)["details"] == {"name": "missing", "kind": "persistentvolumes"}


def test_generate_name_and_already_exists(api: client.ApiClient) -> None:
    v1 = core(api)
    body = pod_body("")
    body["metadata"] = {"generateName": "job-"}
    created = v1.create_namespaced_pod("default", body)
    assert created.metadata.name.startswith("job-") and created.metadata.uid
    with pytest.raises(ApiException) as err:
        v1.create_namespaced_pod("default", pod_body(created.metadata.name))
    assert err.value.status == 409 and status_of(err.value)["reason"] == "AlreadyExists"


def test_stale_update_is_409_conflict(api: client.ApiClient) -> None:
    v1 = core(api)
    v1.create_persistent_volume(pv_body("pv-a"))
    first = v1.read_persistent_volume("pv-a")
    second = v1.read_persistent_volume("pv-a")
    first.metadata.labels = {"owner": "first"}
    v1.replace_persistent_volume("pv-a", first)
    second.metadata.labels = {"owner": "second"}
    with pytest.raises(ApiException) as err:
        v1.replace_persistent_volume("pv-a", second)
    status = status_of(err.value)
    assert err.value.status == 409 and status["reason"] == "Conflict"
    assert status["message"] == (
        'Operation cannot be fulfilled on persistentvolumes "pv-a": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )


def test_finalizer_holds_deletion(api: client.ApiClient) -> None:
    v1 = core(api)
    v1.create_persistent_volume(pv_body("pv-a"))
    v1.delete_persistent_volume("pv-a")
    held = v1.read_persistent_volume("pv-a")
    assert held.metadata.deletion_timestamp is not None
    v1.patch_persistent_volume("pv-a", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as err:
        v1.read_persistent_volume("pv-a")
    assert err.value.status == 404


def test_label_and_field_selectors(api: client.ApiClient) -> None:
    v1 = core(api)
    for i, tier in enumerate(["gold", "silver", "bronze"]):
        v1.create_persistent_volume(pv_body(f"pv-{i}", {"tier": tier}))
    v1.create_persistent_volume(pv_body("pv-plain"))

    def names(**kw: Any) -> list[str]:
        return [pv.metadata.name for pv in v1.list_persistent_volume(**kw).items]

    assert names(label_selector="tier in (gold,bronze)") == ["pv-0", "pv-2"]
    assert names(label_selector="tier notin (gold),tier") == ["pv-1", "pv-2"]
    assert names(label_selector="!tier") == ["pv-plain"]
    assert names(label_selector="tier!=gold") == ["pv-1", "pv-2", "pv-plain"]
    assert names(field_selector="metadata.name=pv-1") == ["pv-1"]
    assert names(field_selector="metadata.name!=pv-1,status.phase=Pending") == ["pv-0", "pv-2", "pv-plain"]


def test_limit_continue_pages_one_snapshot(api: client.ApiClient) -> None:
    v1 = core(api)
    for i in range(7):
        v1.create_persistent_volume(pv_body(f"pv-{i}"))
    page = v1.list_persistent_volume(limit=3)
    seen = [pv.metadata.name for pv in page.items]
    assert page.metadata.remaining_item_count == 4
    v1.create_persistent_volume(pv_body("pv-late"))  # after the snapshot: not in these pages
    while page.metadata._continue:
        page = v1.list_persistent_volume(limit=3, _continue=page.metadata._continue)
        seen += [pv.metadata.name for pv in page.items]
    assert seen == [f"pv-{i}" for i in range(7)]


def test_merge_strategic_and_json_patch(api: client.ApiClient) -> None:
    v1 = core(api)
    body = pod_body("web")
    body["spec"]["containers"].append({"name": "sidecar", "image": "busybox:1.36"})
    v1.create_namespaced_pod("default", body)
    v1.patch_namespaced_pod(
        "web", "default", {"metadata": {"labels": {"app": "web"}}}
    )  # strategic by default
    v1.patch_namespaced_pod(
        "web", "default", {"spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]}}
    )
    pod = v1.read_namespaced_pod("web", "default")
    assert [(c.name, c.image) for c in pod.spec.containers] == [
        ("app", "nginx:1.28"),
        ("sidecar", "busybox:1.36"),
    ]
    code, _ = raw(
        api,
        "PATCH",
        "/api/v1/namespaces/default/pods/web",
        content_type="application/merge-patch+json",
        body={"metadata": {"labels": {"tier": "front"}}},
    )
    assert code == 200
    v1.patch_namespaced_pod("web", "default", [{"op": "remove", "path": "/metadata/labels/app"}])
    assert v1.read_namespaced_pod("web", "default").metadata.labels == {"tier": "front"}


def _owned_pod(name: str, owner: Any) -> dict[str, Any]:
    body = pod_body(name)
    body["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": owner.metadata.name,
            "uid": owner.metadata.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    return body


def _replicaset(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
            },
        },
    }


@pytest.mark.parametrize("policy", ["Background", "Foreground", "Orphan"])
def test_propagation_policies(api: client.ApiClient, policy: str) -> None:
    apps, v1 = client.AppsV1Api(api), core(api)
    owner = apps.create_namespaced_replica_set("default", _replicaset("web"))
    v1.create_namespaced_pod("default", _owned_pod("web-1", owner))
    apps.delete_namespaced_replica_set("web", "default", propagation_policy=policy)
    wait_for(lambda: not apps.list_namespaced_replica_set("default").items, 5, "replicaset still there")
    pods = v1.list_namespaced_pod("default").items
    if policy == "Orphan":
        assert [p.metadata.name for p in pods] == ["web-1"] and pods[0].metadata.owner_references is None
    else:
        assert pods == []


def test_deletecollection_by_label(api: client.ApiClient) -> None:
    v1 = core(api)
    for i in range(4):
        v1.create_namespaced_pod("default", pod_body(f"p{i}", {"batch": "a" if i < 3 else "b"}))
    v1.delete_collection_namespaced_pod("default", label_selector="batch=a")
    assert [p.metadata.name for p in v1.list_namespaced_pod("default").items] == ["p3"]


def test_eviction_blocked_by_pdb_is_429_with_cause(api: client.ApiClient, bare: SimServerThread) -> None:
    v1, policy = core(api), client.PolicyV1Api(api)
    for i in range(2):
        v1.create_namespaced_pod("default", pod_body(f"db-{i}", {"app": "db"}, node="node-1"))
        v1.patch_namespaced_pod_status(
            f"db-{i}",
            "default",
            {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}},
        )
    policy.create_namespaced_pod_disruption_budget(
        "default",
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "db"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}},
        },
    )
    eviction = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "db-0", "namespace": "default"},
    }
    with pytest.raises(ApiException) as err:
        v1.create_namespaced_pod_eviction("db-0", "default", eviction)
    status = status_of(err.value)
    assert err.value.status == 429 and status["reason"] == "TooManyRequests"
    assert status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert status["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget db needs 2 healthy pods and has 2 currently",
        }
    ]
    policy.patch_namespaced_pod_disruption_budget("db", "default", {"spec": {"minAvailable": 1}})
    v1.create_namespaced_pod_eviction("db-0", "default", eviction)
    assert v1.read_namespaced_pod("db-0", "default").metadata.deletion_timestamp is not None


def test_watch_bookmarks_and_resume_after_drop(api: client.ApiClient, bare: SimServerThread) -> None:
    v1 = core(api)
    listed = v1.list_persistent_volume()
    rv = listed.metadata.resource_version
    seen: list[tuple[str, str]] = []
    done = threading.Event()

    def consume(from_rv: str) -> None:
        stream = watch.Watch().stream(
            v1.list_persistent_volume,
            resource_version=from_rv,
            allow_watch_bookmarks=True,
            timeout_seconds=30,
            _request_timeout=30,
        )
        for event in stream:
            seen.append((event["type"], event["raw_object"]["metadata"].get("name", "")))
            if event["type"] == "BOOKMARK" and any(t == "ADDED" for t, _ in seen):
                done.set()
                return

    worker = threading.Thread(target=consume, args=(rv,), daemon=True)
    worker.start()
    v1.create_persistent_volume(pv_body("pv-a"))
    assert done.wait(10), seen
    assert ("ADDED", "pv-a") in seen
    # the server drops every watch; a client resuming from its last RV misses nothing
    last_rv = v1.read_persistent_volume("pv-a").metadata.resource_version
    bare.faults.drop_watches()
    v1.create_persistent_volume(pv_body("pv-b"))
    stream = watch.Watch().stream(v1.list_persistent_volume, resource_version=last_rv, timeout_seconds=5)
    first = next(iter(stream))
    assert (first["type"], first["object"].metadata.name) == ("ADDED", "pv-b")


def test_compacted_history_gives_410_then_relist_works(api: client.ApiClient, bare: SimServerThread) -> None:
    v1 = core(api)
    v1.create_persistent_volume(pv_body("pv-a"))
    old_rv = v1.list_persistent_volume().metadata.resource_version
    v1.create_persistent_volume(pv_body("pv-b"))
    bare.faults.compact()
    code, data = raw(
        api, "GET", "/api/v1/persistentvolumes", query=[("watch", "1"), ("resourceVersion", old_rv)]
    )
    lines = [json.loads(line) for line in data.splitlines() if line.strip()]
    assert code == 200
    assert lines == [
        {
            "type": "ERROR",
            "object": {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": f"too old resource version: {old_rv} ({int(old_rv) + 1})",
                "reason": "Expired",
                "code": 410,
            },
        }
    ]
    relisted = v1.list_persistent_volume()
    assert [pv.metadata.name for pv in relisted.items] == ["pv-a", "pv-b"]
    stream = watch.Watch().stream(
        v1.list_persistent_volume, resource_version=relisted.metadata.resource_version, timeout_seconds=1
    )
    assert list(stream) == []


def test_injected_faults(bare: SimServerThread) -> None:
    conf = client.Configuration()
    config.load_kube_config(config_file=str(bare.kubeconfig), client_configuration=conf)
    conf.retries = False  # urllib3 would otherwise honour Retry-After and retry the 429 itself
    v1 = core(client.ApiClient(conf))
    bare.faults.fail_next("persistentvolumes", 1, code=429, retry_after=3)
    with pytest.raises(ApiException) as err:
        v1.list_persistent_volume()
    assert err.value.status == 429 and err.value.headers["Retry-After"] == "3"
    assert status_of(err.value)["details"]["retryAfterSeconds"] == 3
    assert v1.list_persistent_volume().items == []
    bare.faults.deny("persistentvolumes", "list")
    with pytest.raises(ApiException) as err:
        v1.list_persistent_volume()
    assert err.value.status == 403
    assert status_of(err.value)["message"] == (
        'persistentvolumes is forbidden: User "kstor-sim" cannot list '
        'resource "persistentvolumes" in API group "" at the cluster scope'
    )
    bare.faults.clear()
    assert v1.list_persistent_volume().items == []


def test_namespace_missing_and_terminating(api: client.ApiClient) -> None:
    v1 = core(api)
    with pytest.raises(ApiException) as err:
        v1.create_namespaced_pod("nope", pod_body("p"))
    assert err.value.status == 404 and status_of(err.value)["message"] == 'namespaces "nope" not found'
    v1.create_namespace({"metadata": {"name": "team"}})
    v1.create_namespaced_pod("team", pod_body("p", node="node-1"))
    v1.delete_namespace("team")
    assert v1.read_namespace("team").status.phase == "Terminating"
    with pytest.raises(ApiException) as err:
        v1.create_namespaced_pod("team", pod_body("q"))
    assert err.value.status == 403
    assert status_of(err.value)["message"] == (
        'pods "q" is forbidden: unable to create new content in namespace team because it is being terminated'
    )
    v1.delete_namespaced_pod("p", "team", grace_period_seconds=0)
    wait_for(
        lambda: "team" not in [n.metadata.name for n in v1.list_namespace().items], 5, "namespace stayed"
    )


def test_server_restart_keeps_state_and_port(api: client.ApiClient, bare: SimServerThread) -> None:
    v1 = core(api)
    v1.create_persistent_volume(pv_body("pv-a"))
    port = bare.call(bare.api.bound_address)[1]
    bare.restart()
    assert bare.call(bare.api.bound_address)[1] == port
    assert [pv.metadata.name for pv in v1.list_persistent_volume().items] == ["pv-a"]


def test_port_is_free_after_stop() -> None:
    with SimServerThread(with_controllers=False) as server:
        port = server.call(server.api.bound_address)[1]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_dry_run_method_not_allowed_and_table_output(api: client.ApiClient, bare: SimServerThread) -> None:
    v1 = core(api)
    created = v1.create_persistent_volume(pv_body("pv-dry"), dry_run="All")
    assert created.metadata.name == "pv-dry" and v1.list_persistent_volume().items == []
    code, body = raw(api, "POST", "/api/v1/persistentvolumes/pv-x", body=pv_body("pv-x"))
    assert code == 405 and json.loads(body)["reason"] == "MethodNotAllowed"
    v1.create_persistent_volume(pv_body("pv-a"))
    method_, url, headers, _, _ = api.param_serialize(
        "GET",
        "/api/v1/persistentvolumes",
        auth_settings=["BearerToken"],
        header_params={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"},
    )
    resp = api.call_api(method_, url, header_params=headers, _request_timeout=10)
    resp.read()
    table = json.loads(resp.data)
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["columnDefinitions"][0]["name"] == "Name"
    assert table["rows"][0]["cells"][0] == "pv-a"
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_latency_fault_delays_but_answers(api: client.ApiClient, bare: SimServerThread) -> None:
    v1 = core(api)
    bare.faults.add_latency("persistentvolumes", 0.2)
    assert bare.call(lambda: bare.api.faults.delay_for(RESOURCES["persistentvolumes"])) == 0.2
    assert v1.list_persistent_volume().items == []
    bare.faults.clear()
    assert bare.call(lambda: bare.api.faults.delay_for(RESOURCES["persistentvolumes"])) == 0.0
