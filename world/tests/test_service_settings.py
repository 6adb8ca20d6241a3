"""Service settings that CreateService and UpdateService take and DescribeServices shows: moto's
create_service drops several of them; the extension keeps them (world/README.md, Deployments)."""

from __future__ import annotations

from helpers import CLUSTER, create_service, describe, register, wait_completed

SETTINGS = {
    "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}],
    "placementConstraints": [{"type": "distinctInstance"}],
    "placementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"}],
    "healthCheckGracePeriodSeconds": 30,
    "enableECSManagedTags": True,
    "enableExecuteCommand": True,
    "availabilityZoneRebalancing": "ENABLED",
}


def test_create_service_keeps_the_settings_moto_drops(ecs):
    td = register(ecs, "web")
    created = ecs.create_service(
        cluster=CLUSTER, serviceName="web", taskDefinition=td, desiredCount=1, **SETTINGS
    )["service"]
    for name, value in SETTINGS.items():
        assert created[name] == value, name
        assert describe(ecs, "web")[name] == value, name
    # The service still rolls out as any other.
    wait_completed(ecs, "web")


def test_a_service_created_without_them_does_not_report_them(ecs):
    td = register(ecs, "web")
    created = create_service(ecs, "web", td, 1)
    for name in SETTINGS:
        assert name not in created or created[name] in (None, False, []), name


def test_update_service_changes_them_without_a_new_deployment(ecs):
    td = register(ecs, "web")
    ecs.create_service(
        cluster=CLUSTER, serviceName="web", taskDefinition=td, desiredCount=1, **SETTINGS
    )
    wait_completed(ecs, "web")
    before = [d["id"] for d in describe(ecs, "web")["deployments"]]
    ecs.update_service(
        cluster=CLUSTER, service="web", healthCheckGracePeriodSeconds=60, enableExecuteCommand=False
    )
    after = describe(ecs, "web")
    assert after["healthCheckGracePeriodSeconds"] == 60
    assert after["enableExecuteCommand"] is False
    assert after["placementConstraints"] == SETTINGS["placementConstraints"]
    assert [d["id"] for d in after["deployments"]] == before
