from __future__ import annotations

from ocflib import cluster
from ocflib.env import OcfEnv
from tests.fakes import FakeRunner


def test_promotion_uses_crm_attribute_on_modern_feature_set(fake: FakeRunner) -> None:
    env = OcfEnv("monitor", {"OCF_RESKEY_crm_feature_set": "3.16.2"})
    fake.expect(["crm_attribute", "--promotion", "-v", "10"])
    fake.expect(["crm_attribute", "--promotion", "-G", "-q"], stdout="10\n")
    fake.expect(["crm_attribute", "--promotion", "-D"])
    cluster.set_promotion_score(env, fake, 10)
    assert cluster.get_promotion_score(env, fake) == 10
    cluster.delete_promotion_score(env, fake)


def test_promotion_falls_back_to_crm_master_on_old_feature_set() -> None:
    fake = FakeRunner(installed={"crm_master", "crm_attribute"})
    env = OcfEnv("monitor", {"OCF_RESKEY_crm_feature_set": "3.0.14"})
    fake.expect(["crm_master", "-l", "reboot", "-v", "5"])
    fake.expect(["crm_master", "-l", "reboot", "-G", "-q"], returncode=6)
    cluster.set_promotion_score(env, fake, 5)
    assert cluster.get_promotion_score(env, fake) is None
    fake.assert_done()


def test_old_feature_set_without_crm_master_uses_crm_attribute() -> None:
    fake = FakeRunner(installed={"crm_attribute"})
    env = OcfEnv("monitor", {"OCF_RESKEY_crm_feature_set": "3.0.14"})
    assert cluster.promotion_uses_crm_attribute(env, fake)


def test_local_node_name(fake: FakeRunner) -> None:
    fake.expect(["crm_node", "-n"], stdout="node1\n")
    assert cluster.local_node_name(OcfEnv("start", {}), fake) == "node1"
    on_node = OcfEnv("start", {"OCF_RESKEY_CRM_meta_on_node": "node2"})
    assert cluster.local_node_name(on_node, fake) == "node2"


def test_node_attributes(fake: FakeRunner) -> None:
    fake.expect(["crm_attribute", "-N", "n1", "-l", "reboot", "-n", "readable", "-v", "1"])
    fake.expect(
        ["crm_attribute", "-N", "n1", "-l", "reboot", "-n", "readable", "-G", "-q"], stdout="1\n"
    )
    fake.expect(["crm_attribute", "-N", "n1", "-l", "reboot", "-n", "readable", "-D"])
    cluster.set_node_attribute(fake, "n1", "readable", "1")
    assert cluster.get_node_attribute(fake, "n1", "readable") == "1"
    cluster.delete_node_attribute(fake, "n1", "readable")
