"""The chart renders what each setting promises: defaults, the three certificate modes per
component, CRDs off, several replicas, resource overrides, images by digest."""

from __future__ import annotations

import base64
from typing import Any

import helm_python
import pytest
from cryptography import x509

from strongroom_core import podspec
from strongroom_operator.controlplane import command
from strongroom_operator.kopfhandlers import main
from strongroom_webhook import settings
from tests.chart import rendering

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_chart_lints_clean_in_strict_mode_for_kubernetes_1_30() -> None:
    report = helm_python.lint(rendering.CHART, strict=True, kube_version="v1.30.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == []
    assert problems == []


def test_chart_requires_kubernetes_1_29_for_native_sidecars() -> None:
    """Helm refuses to install on an older server from this constraint ("-0" admits the
    pre-release suffixes managed clusters report, e.g. v1.29.4-eks-...)."""
    assert rendering.chart().metadata["kubeVersion"] == ">={}.{}.0-0".format(
        *podspec.MIN_KUBERNETES_VERSION
    )


def test_default_release_has_each_component_and_its_service() -> None:
    objects = rendering.render()
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for expected in [
        ("Deployment", "strongroom-controlplane"),
        ("Deployment", "strongroom-audit"),
        ("Deployment", "strongroom-webhook"),
        ("StatefulSet", "strongroom-operator"),
        ("Service", "strongroom-controlplane"),
        ("Service", "strongroom-audit"),
        ("Service", "strongroom-webhook"),
        ("MutatingWebhookConfiguration", "strongroom-webhook"),
        ("PersistentVolumeClaim", "strongroom-audit"),
        ("ServiceAccount", "strongroom-cli"),
        ("ConfigMap", "strongroom-ca"),
        ("Secret", "strongroom-controlplane-tls"),
    ]:
        assert expected in names
    for kind in ("PodDisruptionBudget", "NetworkPolicy"):
        assert rendering.kinds(objects, kind)
    assert "ClusterKopfPeering" not in {o["kind"] for o in objects}  # one operator: standalone


def test_templates_are_named_component_and_kind() -> None:
    for template in rendering.chart().templates:
        name = template["name"].removeprefix("templates/")
        if name.startswith("_") or name == "NOTES.txt":
            continue
        component, _, kind = name.removesuffix(".yaml").partition("-")
        assert component in {
            "controlplane",
            "audit",
            "operator",
            "webhook",
            "crds",
            "user",
            "cli",
            "certmanager",
        }, name
        assert kind, name
        assert "-" not in kind, name


def test_root_keys_are_never_a_template_so_uninstall_cannot_delete_them() -> None:
    for values in ({}, {"controlPlane": {"tls": {"mode": "cert-manager"}}}):
        secrets = {
            o["metadata"]["name"] for o in rendering.kinds(rendering.render(values), "Secret")
        }
        assert "strongroom-root-keys" not in secrets
        assert "strongroom-sealing-key" not in secrets


def test_crds_are_kept_on_uninstall_and_can_be_left_out() -> None:
    crds = [
        o
        for o in rendering.render()
        if o["kind"] == "CustomResourceDefinition" and o["spec"]["group"] == "strongroom.dev"
    ]
    assert sorted(c["spec"]["names"]["kind"] for c in crds) == ["Agent", "App", "Grant", "Provider"]
    for crd in crds:
        assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    off = rendering.render({"crds": {"enabled": False}})
    assert not [o for o in off if o.get("spec", {}).get("group") == "strongroom.dev"]


def test_audit_volume_is_kept_and_the_collector_is_exactly_one_recreated_replica() -> None:
    objects = rendering.render({"controlPlane": {"replicas": 4}})
    claim = rendering.find(objects, "PersistentVolumeClaim", "strongroom-audit")
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    collector = rendering.find(objects, "Deployment", "strongroom-audit")
    assert collector["spec"]["replicas"] == 1
    assert collector["spec"]["strategy"] == {"type": "Recreate"}
    container = collector["spec"]["template"]["spec"]["containers"][0]
    assert rendering.env(container)["STRONGROOM_CONTROLPLANE_AUDIT_DB"] == "/data/audit.sqlite3"
    serving = rendering.find(objects, "Deployment", "strongroom-controlplane")
    assert serving["spec"]["replicas"] == 4
    env = rendering.env(serving["spec"]["template"]["spec"]["containers"][0])
    assert env["STRONGROOM_CONTROLPLANE_AUDIT_URL"] == (
        "https://strongroom-audit.strongroom-system.svc:8443"
    )
    assert "STRONGROOM_CONTROLPLANE_AUDIT_DB" not in env


def test_audit_without_persistence_uses_an_empty_dir() -> None:
    objects = rendering.render({"audit": {"persistence": {"enabled": False}}})
    assert not rendering.kinds(objects, "PersistentVolumeClaim")
    pod = rendering.pod_specs(objects)["Deployment/strongroom-audit"]
    assert {"name": "data", "emptyDir": {}} in pod["volumes"]


def test_serving_replicas_forward_audit_as_admins_of_the_collector() -> None:
    objects = rendering.render({"controlPlane": {"adminUsers": ["alice"], "adminGroups": ["ops"]}})
    for name in ("strongroom-controlplane", "strongroom-audit"):
        container = rendering.find(objects, "Deployment", name)["spec"]["template"]["spec"][
            "containers"
        ][0]
        env = rendering.env(container)
        assert env["STRONGROOM_CONTROLPLANE_ADMIN_USERS"].split(",") == [
            "system:serviceaccount:strongroom-system:strongroom-controlplane",
            "alice",
            "system:serviceaccount:strongroom-system:strongroom-cli",
        ]
        assert env["STRONGROOM_CONTROLPLANE_ADMIN_GROUPS"] == "ops"


def test_the_control_plane_accepts_exactly_the_sidecar_image_the_webhook_injects() -> None:
    digest = "sha256:" + "a" * 64
    values = {"image": {"registry": "ghcr.io/acme/", "sidecar": {"digest": digest}}}
    objects = rendering.render(values)
    webhook = rendering.find(objects, "Deployment", "strongroom-webhook")
    injected = rendering.env(webhook["spec"]["template"]["spec"]["containers"][0])[
        "STRONGROOM_WEBHOOK_SIDECAR_IMAGE"
    ]
    assert injected == f"ghcr.io/acme/strongroom/sidecar@{digest}"
    control = rendering.find(objects, "Deployment", "strongroom-controlplane")
    accepted = rendering.env(control["spec"]["template"]["spec"]["containers"][0])[
        "STRONGROOM_CONTROLPLANE_SIDECAR_IMAGES"
    ]
    assert accepted.split(",") == [injected]
    assert control["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "ghcr.io/acme/strongroom/controlplane:0.1.0"
    )


def test_webhook_settings_match_the_names_the_chart_creates() -> None:
    objects = rendering.render()
    env = rendering.env(
        rendering.find(objects, "Deployment", "strongroom-webhook")["spec"]["template"]["spec"][
            "containers"
        ][0]
    )
    assert env["STRONGROOM_WEBHOOK_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert env["STRONGROOM_WEBHOOK_CONTROL_PLANE_URL"] == (
        "https://strongroom-controlplane.strongroom-system.svc:8443"
    )
    assert env["STRONGROOM_WEBHOOK_CONTROL_PLANE_CA_CONFIGMAP"] == podspec.CA_CONFIGMAP_NAME
    rendering.find(
        objects, "MutatingWebhookConfiguration", env["STRONGROOM_WEBHOOK_WEBHOOK_CONFIGURATION"]
    )
    rendering.find(objects, "Service", env["STRONGROOM_WEBHOOK_SERVICE_NAME"])
    rendering.find(objects, "Service", "strongroom-controlplane")


def test_webhook_settings_parse_in_the_webhook_itself() -> None:
    """Every STRONGROOM_WEBHOOK_* variable the chart sets is one the webhook reads, with a value
    it accepts (field references stand in for the namespace)."""
    for mode, extra in (
        ("self-managed", {}),
        ("cert-manager", {}),
        ("secret", {"secretName": "mine", "caBundle": PEM}),
    ):
        objects = rendering.render({"webhook": {"tls": {"mode": mode, **extra}}})
        container = rendering.find(objects, "Deployment", "strongroom-webhook")["spec"]["template"][
            "spec"
        ]["containers"][0]
        environ = {
            k: (v if isinstance(v, str) else "strongroom-system")
            for k, v in rendering.env(container).items()
        }
        fields = {
            f"STRONGROOM_WEBHOOK_{f.upper()}" for f in settings.WebhookSettings.__dataclass_fields__
        }
        assert set(environ) <= fields
        parsed = settings.WebhookSettings.from_env(environ)
        assert parsed.tls_mode == mode


def test_control_plane_variables_are_ones_its_command_reads() -> None:
    parser = command.build_parser()
    flags = {a.dest.upper() for a in parser._actions}
    flags |= {"SIDECAR_IMAGES", "ADMIN_USERS", "ADMIN_GROUPS"}  # the list variables
    for name in ("strongroom-controlplane", "strongroom-audit"):
        container = rendering.find(rendering.render(), "Deployment", name)["spec"]["template"][
            "spec"
        ]["containers"][0]
        assert container["command"] == ["strongroom-controlplane"]
        for variable in rendering.env(container):
            assert variable.removeprefix("STRONGROOM_CONTROLPLANE_") in flags, variable


def test_operator_arguments_are_ones_its_command_accepts() -> None:
    for replicas in (1, 3):
        objects = rendering.render({"operator": {"replicas": replicas}})
        container = rendering.pod_specs(objects)["StatefulSet/strongroom-operator"]["containers"][0]
        assert container["command"] == ["strongroom-operator"]
        config, _ = main.parse_args([*container["args"], "--namespace", "strongroom-system"])
        assert (config.peering is None) == (replicas == 1)


def test_several_operators_meet_in_one_peering_with_priorities_from_their_pod_index() -> None:
    objects = rendering.render({"operator": {"replicas": 3, "peeringName": "vault"}})
    peering = rendering.find(objects, "ClusterKopfPeering", "vault")
    assert peering["apiVersion"] == "kopf.dev/v1"
    statefulset = rendering.find(objects, "StatefulSet", "strongroom-operator")
    assert statefulset["spec"]["replicas"] == 3
    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    assert "--peering=vault" in container["args"]
    assert rendering.env(container)["STRONGROOM_OPERATOR_PRIORITY"] == {
        "fieldRef": {"fieldPath": "metadata.labels['apps.kubernetes.io/pod-index']"}
    }
    crd_names = {
        c["metadata"]["name"] for c in rendering.kinds(objects, "CustomResourceDefinition")
    }
    assert "clusterkopfpeerings.kopf.dev" in crd_names


@pytest.mark.parametrize(
    ("values", "deployment"),
    [
        (
            {"controlPlane": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}},
            "strongroom-controlplane",
        ),
        ({"audit": {"resources": {"limits": {"memory": "2Gi"}}}}, "strongroom-audit"),
        ({"webhook": {"resources": {"requests": {"cpu": "200m"}}}}, "strongroom-webhook"),
    ],
)
def test_resource_overrides_reach_the_container(values: dict[str, Any], deployment: str) -> None:
    container = rendering.pod_specs(rendering.render(values))[f"Deployment/{deployment}"][
        "containers"
    ][0]
    section = next(iter(next(iter(values.values()))["resources"].items()))
    for resource, quantity in section[1].items():
        assert container["resources"][section[0]][resource] == quantity


def test_default_resources_are_small() -> None:
    """vault-k8s users' complaint: oversized defaults. Requests here stay under 100m / 128Mi."""
    for name, pod in rendering.pod_specs(rendering.render()).items():
        for container in pod["containers"]:
            requests = container["resources"]["requests"]
            assert requests["cpu"].endswith("m"), name
            assert int(requests["cpu"][:-1]) <= 100, name
            assert requests["memory"].endswith("Mi"), name
            assert int(requests["memory"][:-2]) <= 128, name
            assert "memory" in container["resources"]["limits"], name


def _certificate_dns_names(objects: list[rendering.Object]) -> list[str]:
    secret = rendering.find(objects, "Secret", "strongroom-controlplane-tls")
    pem = base64.b64decode(secret["data"]["tls.crt"])
    cert = x509.load_pem_x509_certificate(pem)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return names.get_values_for_type(x509.DNSName)


def test_generated_certificate_names_both_services_and_is_signed_by_the_published_ca() -> None:
    objects = rendering.render({"controlPlane": {"caBundle": {"namespaces": ["team-a", "team-b"]}}})
    names = _certificate_dns_names(objects)
    for service in ("strongroom-controlplane", "strongroom-audit"):
        assert f"{service}.strongroom-system.svc" in names
    assert "localhost" in names  # the CLI through kubectl port-forward
    secret = rendering.find(objects, "Secret", "strongroom-controlplane-tls")
    ca = base64.b64decode(secret["data"]["ca.crt"]).decode()
    maps = [
        o for o in rendering.kinds(objects, "ConfigMap") if o["metadata"]["name"] == "strongroom-ca"
    ]
    assert sorted(m["metadata"]["namespace"] for m in maps) == [
        "strongroom-system",
        "team-a",
        "team-b",
    ]
    for configmap in maps:
        assert configmap["data"]["ca.crt"].strip() == ca.strip()
    leaf = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    authority = x509.load_pem_x509_certificate(ca.encode())
    leaf.verify_directly_issued_by(authority)


def test_control_plane_cert_manager_mode_uses_a_ca_issuer_chain_and_optionally_trust_manager() -> (
    None
):
    values = {
        "controlPlane": {
            "tls": {"mode": "cert-manager"},
            "caBundle": {"trustManager": {"enabled": True}},
        }
    }
    objects = rendering.render(values)
    assert not [
        o
        for o in rendering.kinds(objects, "Secret")
        if o["metadata"]["name"] == "strongroom-controlplane-tls"
    ]
    certificate = rendering.find(objects, "Certificate", "strongroom-controlplane")
    assert certificate["spec"]["secretName"] == "strongroom-controlplane-tls"
    assert certificate["spec"]["issuerRef"]["name"] == "strongroom-ca"
    assert "strongroom-audit.strongroom-system.svc" in certificate["spec"]["dnsNames"]
    assert rendering.find(objects, "Certificate", "strongroom-ca")["spec"]["isCA"] is True
    assert rendering.find(objects, "Issuer", "strongroom-selfsigned")["spec"] == {"selfSigned": {}}
    bundle = rendering.find(objects, "Bundle", "strongroom-ca")
    assert bundle["spec"]["target"]["namespaceSelector"]["matchLabels"] == {
        podspec.NAMESPACE_INJECTION_LABEL: podspec.NAMESPACE_INJECTION_ENABLED
    }
    assert "trust-manager copies" in rendering.notes(values)


def test_an_existing_issuer_replaces_the_chart_made_ca() -> None:
    values = {
        "webhook": {"tls": {"mode": "cert-manager"}},
        "certManager": {
            "issuerRef": {"name": "corp", "kind": "ClusterIssuer", "group": "cert-manager.io"}
        },
    }
    objects = rendering.render(values)
    assert not rendering.kinds(objects, "Issuer")
    assert (
        rendering.find(objects, "Certificate", "strongroom-webhook")["spec"]["issuerRef"]["name"]
        == "corp"
    )


def test_control_plane_secret_mode_mounts_the_given_secret_and_publishes_the_given_ca() -> None:
    values = {"controlPlane": {"tls": {"mode": "secret", "secretName": "my-tls", "caBundle": PEM}}}
    objects = rendering.render(values)
    pod = rendering.pod_specs(objects)["Deployment/strongroom-controlplane"]
    assert {"name": "tls", "secret": {"secretName": "my-tls"}} in pod["volumes"]
    assert rendering.find(objects, "ConfigMap", "strongroom-ca")["data"]["ca.crt"] == PEM
    assert not rendering.kinds(objects, "Certificate")


def _webhook(objects: list[rendering.Object]) -> dict[str, Any]:
    configuration = rendering.find(objects, "MutatingWebhookConfiguration", "strongroom-webhook")
    (hook,) = configuration["webhooks"]
    return {"configuration": configuration, "hook": hook}


def test_webhook_self_managed_mode_leaves_the_ca_bundle_to_the_webhook() -> None:
    objects = rendering.render()
    found = _webhook(objects)
    assert "caBundle" not in found["hook"]["clientConfig"]
    assert "annotations" not in found["configuration"]["metadata"]
    container = rendering.pod_specs(objects)["Deployment/strongroom-webhook"]["containers"][0]
    assert rendering.env(container)["STRONGROOM_WEBHOOK_TLS_MODE"] == "self-managed"
    assert "STRONGROOM_WEBHOOK_CERT_DIR" not in rendering.env(container)


def test_webhook_cert_manager_mode_mounts_the_certificate_and_asks_for_ca_injection() -> None:
    objects = rendering.render({"webhook": {"tls": {"mode": "cert-manager"}}})
    found = _webhook(objects)
    assert found["configuration"]["metadata"]["annotations"] == {
        "cert-manager.io/inject-ca-from": "strongroom-system/strongroom-webhook"
    }
    certificate = rendering.find(objects, "Certificate", "strongroom-webhook")
    assert "strongroom-webhook.strongroom-system.svc" in certificate["spec"]["dnsNames"]
    pod = rendering.pod_specs(objects)["Deployment/strongroom-webhook"]
    assert {"name": "tls", "secret": {"secretName": certificate["spec"]["secretName"]}} in pod[
        "volumes"
    ]
    assert rendering.env(pod["containers"][0])["STRONGROOM_WEBHOOK_CERT_DIR"] == "/tls"


def test_webhook_secret_mode_puts_the_given_ca_in_the_bundle() -> None:
    objects = rendering.render(
        {"webhook": {"tls": {"mode": "secret", "secretName": "hook-tls", "caBundle": PEM}}}
    )
    bundle = _webhook(objects)["hook"]["clientConfig"]["caBundle"]
    assert base64.b64decode(bundle).decode() == PEM
    pod = rendering.pod_specs(objects)["Deployment/strongroom-webhook"]
    assert {"name": "tls", "secret": {"secretName": "hook-tls"}} in pod["volumes"]


def test_webhook_reaches_only_labelled_namespaces_never_its_own_or_system_ones() -> None:
    objects = rendering.render({"webhook": {"excludeNamespaces": ["legacy"]}}, namespace="vault")
    hook = _webhook(objects)["hook"]
    expressions = hook["namespaceSelector"]["matchExpressions"]
    assert {
        "key": podspec.NAMESPACE_INJECTION_LABEL,
        "operator": "In",
        "values": ["enabled"],
    } in expressions
    excluded = next(e for e in expressions if e["operator"] == "NotIn")["values"]
    assert set(excluded) == {"vault", "legacy", *podspec.SYSTEM_NAMESPACES}
    assert "objectSelector" not in hook
    assert hook["sideEffects"] == "None"
    assert hook["admissionReviewVersions"] == ["v1"]
    assert hook["failurePolicy"] == "Fail"
    assert hook["timeoutSeconds"] <= 10
    assert hook["reinvocationPolicy"] == "IfNeeded"
    assert hook["rules"] == [
        {
            "apiGroups": [""],
            "apiVersions": ["v1"],
            "operations": ["CREATE"],
            "resources": ["pods"],
            "scope": "Namespaced",
        }
    ]
    assert hook["clientConfig"]["service"] == {
        "name": "strongroom-webhook",
        "namespace": "vault",
        "path": "/mutate",
        "port": 443,
    }


def test_webhook_failure_policy_and_match_conditions_are_configurable() -> None:
    conditions = [{"name": "not-batch", "expression": "object.metadata.namespace != 'batch'"}]
    objects = rendering.render(
        {"webhook": {"failurePolicy": "Ignore", "timeoutSeconds": 3, "matchConditions": conditions}}
    )
    hook = _webhook(objects)["hook"]
    assert (hook["failurePolicy"], hook["timeoutSeconds"], hook["matchConditions"]) == (
        "Ignore",
        3,
        conditions,
    )


def test_every_pod_is_non_root_read_only_with_no_capabilities_and_runtime_default_seccomp() -> None:
    for values in ({}, {"operator": {"replicas": 2}, "webhook": {"tls": {"mode": "cert-manager"}}}):
        for name, pod in rendering.pod_specs(rendering.render(values)).items():
            assert pod["securityContext"]["runAsNonRoot"] is True, name
            assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
            for container in pod["containers"]:
                context = container["securityContext"]
                assert context["readOnlyRootFilesystem"] is True, name
                assert context["allowPrivilegeEscalation"] is False, name
                assert context["capabilities"] == {"drop": ["ALL"]}, name
                mounts = {m["mountPath"] for m in container["volumeMounts"]}
                assert "/tmp" in mounts, name  # the only writable place besides data volumes


def test_pod_disruption_budgets_never_block_a_drain_and_can_be_turned_off() -> None:
    objects = rendering.render()
    budgets = rendering.kinds(objects, "PodDisruptionBudget")
    assert sorted(b["metadata"]["name"] for b in budgets) == [
        "strongroom-controlplane",
        "strongroom-operator",
        "strongroom-webhook",
    ]
    assert all(b["spec"]["maxUnavailable"] == 1 for b in budgets)
    off = {
        c: {"podDisruptionBudget": {"enabled": False, "maxUnavailable": 1}}
        for c in ("controlPlane", "operator", "webhook")
    }
    assert not rendering.kinds(rendering.render(off), "PodDisruptionBudget")


def test_control_plane_network_policy_admits_only_injected_namespaces_and_extra_peers() -> None:
    extra = [{"ipBlock": {"cidr": "10.0.0.1/32"}}]
    objects = rendering.render(
        {"controlPlane": {"networkPolicy": {"enabled": True, "extraIngressFrom": extra}}}
    )
    policy = rendering.find(objects, "NetworkPolicy", "strongroom-controlplane")
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"port": 8443, "protocol": "TCP"}]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {podspec.NAMESPACE_INJECTION_LABEL: "enabled"}}},
        *extra,
    ]
    audit = rendering.find(objects, "NetworkPolicy", "strongroom-audit")
    (audit_rule,) = audit["spec"]["ingress"]
    assert (
        audit_rule["from"][0]["podSelector"]["matchLabels"]["strongroom.dev/audit-collector"]
        == "false"
    )
    off = rendering.render({"controlPlane": {"networkPolicy": {"enabled": False}}})
    assert not rendering.kinds(off, "NetworkPolicy")


def test_services_select_the_pods_they_front() -> None:
    objects = rendering.render()
    for service in rendering.kinds(objects, "Service"):
        selector = service["spec"]["selector"]
        matching = [
            name
            for name, workload in (
                (o["metadata"]["name"], o)
                for o in objects
                if o["kind"] in ("Deployment", "StatefulSet")
            )
            if selector.items() <= workload["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert matching == [service["metadata"]["name"]], service["metadata"]["name"]


def test_notes_tell_the_next_steps() -> None:
    text = rendering.notes()
    assert "kubectl label namespace team-a strongroom.dev/injection=enabled" in text
    assert 'strongroom.dev/inject: "true"' in text
    assert "strongroom.dev/app" in text
    assert "strongroom audit query" in text
    assert "strongroom key export" in text


def test_notes_point_at_the_ca_where_each_mode_keeps_it() -> None:
    assert "get configmap strongroom-ca" in rendering.notes()
    assert "The operator copies the control plane's CA" in rendering.notes()
    cert_manager = rendering.notes({"controlPlane": {"tls": {"mode": "cert-manager"}}})
    assert "get secret strongroom-controlplane-tls" in cert_manager
    by_hand = rendering.notes(
        {
            "controlPlane": {
                "tls": {"mode": "cert-manager"},
                "caBundle": {"publishToAppNamespaces": False},
            }
        }
    )
    assert "trustManager.enabled=true" in by_hand
    assert "The operator copies" not in by_hand


def _operator_container(values: dict[str, Any] | None = None) -> dict[str, Any]:
    objects = rendering.render(values)
    container: dict[str, Any] = rendering.pod_specs(objects)["StatefulSet/strongroom-operator"][
        "containers"
    ][0]
    return container


@pytest.mark.parametrize(
    ("values", "source"),
    [
        ({}, ("configmap", "strongroom-system", "strongroom-ca")),
        (
            {"controlPlane": {"caBundle": {"configMapName": "sr-ca"}}},
            ("configmap", "strongroom-system", "sr-ca"),
        ),
        (
            {"controlPlane": {"tls": {"mode": "cert-manager"}}},
            ("secret", "strongroom-system", "strongroom-controlplane-tls"),
        ),
        (
            {
                "controlPlane": {
                    "tls": {"mode": "cert-manager"},
                    "caBundle": {"trustManager": {"enabled": True}},
                }
            },
            None,
        ),
        ({"controlPlane": {"caBundle": {"publishToAppNamespaces": False}}}, None),
    ],
)
def test_the_operator_publishes_the_ca_from_where_each_mode_keeps_it_unless_someone_else_does(
    values: dict[str, Any], source: tuple[str, str, str] | None
) -> None:
    container = _operator_container(values)
    config, _ = main.parse_args([*container["args"], "--namespace", rendering.NAMESPACE])
    assert config.ca_source == source
    name = values.get("controlPlane", {}).get("caBundle", {}).get("configMapName", "strongroom-ca")
    assert config.ca_configmap == name


def test_operator_probes_call_the_health_endpoint_it_serves() -> None:
    container = _operator_container({"operator": {"healthPort": 9090}})
    config, _ = main.parse_args([*container["args"], "--namespace", rendering.NAMESPACE])
    assert config.liveness_endpoint == "http://0.0.0.0:9090/healthz"
    assert container["ports"] == [{"name": "health", "containerPort": 9090, "protocol": "TCP"}]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}


def test_pull_secrets_and_scheduling_reach_each_component() -> None:
    toleration = {"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}
    per_component = {"nodeSelector": {"pool": "infra"}, "tolerations": [toleration]}
    values = {
        "imagePullSecrets": ["regcred"],
        **dict.fromkeys(("controlPlane", "audit", "operator", "webhook"), per_component),
    }
    pods = rendering.pod_specs(rendering.render(values))
    assert len(pods) == 4
    for name, pod in pods.items():
        assert pod["imagePullSecrets"] == [{"name": "regcred"}], name
        assert pod["nodeSelector"] == {"pool": "infra"}, name
        assert pod["tolerations"] == [toleration], name
    for name, pod in rendering.pod_specs(rendering.render()).items():
        assert "imagePullSecrets" not in pod, name
        assert "nodeSelector" not in pod, name
