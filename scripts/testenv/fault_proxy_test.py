#!/usr/bin/env python3
"""Self-test of scripts/testenv/fault_proxy.py against the running proxy + moto.

Starts nothing: run `scripts/testenv.sh up moto proxy` first, then
    . "${TESTENV_DIR:-/tmp/slipway-testenv}/env"
    "$SLIPWAY_MOTO_VENV/bin/python" scripts/testenv/fault_proxy_test.py
Each test uses its own moto account (x-moto-account-id) and scopes its rules to that account,
so it does not disturb other users of the same proxy.
"""

import json
import os
import random
import time
import unittest
import urllib.request

import boto3
import botocore.exceptions
from botocore.config import Config

PROXY = os.environ.get("SLIPWAY_TEST_PROXY_URL", "http://127.0.0.1:45501")
REGION = "us-east-1"


def control(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(PROXY + "/__proxy__/" + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


class ProxyTest(unittest.TestCase):
    def setUp(self):
        self.account = "%012d" % random.randrange(10**11, 10**12)

    def tearDown(self):
        control("DELETE", f"rules?account={self.account}")

    def client(self, service, read_timeout=20):
        c = boto3.client(
            service, region_name=REGION, endpoint_url=PROXY,
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                          read_timeout=read_timeout, connect_timeout=5))

        def add_account(request, **_):
            request.headers["x-moto-account-id"] = self.account
        c.meta.events.register("before-sign.*.*", add_account)
        return c

    def rule(self, **spec):
        spec.setdefault("account", self.account)
        return control("POST", "rules", spec)["ids"][0]

    def assert_error(self, fn, code, status):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn()
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], code)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status)

    def eks_cluster(self, eks, name):
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        eks.create_cluster(name=name, roleArn=f"arn:aws:iam::{self.account}:role/eks",
                           resourcesVpcConfig={"subnetIds": [sub]})

    # ------------------------------------------------------------------ tests

    def test_passthrough_sts(self):
        ident = self.client("sts").get_caller_identity()
        self.assertEqual(ident["Account"], self.account)

    def test_ec2_throttle(self):
        self.rule(service="ec2", action="DescribeVpcs", fault="throttle")
        ec2 = self.client("ec2")
        self.assert_error(ec2.describe_vpcs, "RequestLimitExceeded", 503)
        ec2.describe_subnets()  # other actions pass

    def test_sts_throttle(self):
        self.rule(service="sts", fault="throttle")
        self.assert_error(self.client("sts").get_caller_identity, "Throttling", 400)

    def test_rds_iam_throttle(self):
        self.rule(service="rds", fault="throttle")
        self.rule(service="iam", fault="throttle")
        self.assert_error(self.client("rds").describe_db_instances, "Throttling", 400)
        self.assert_error(self.client("iam").list_roles, "Throttling", 400)

    def test_eks_throttle(self):
        self.rule(service="eks", action="ListClusters", fault="throttle")
        self.assert_error(self.client("eks").list_clusters, "ThrottlingException", 429)

    def test_errors_500_503(self):
        self.rule(service="ec2", fault="error", status=500, count=1)
        self.rule(service="ec2", fault="error", status=503, count=1)
        self.rule(service="eks", fault="error", status=503, count=1)
        ec2 = self.client("ec2")
        self.assert_error(ec2.describe_vpcs, "InternalError", 500)
        self.assert_error(ec2.describe_vpcs, "ServiceUnavailable", 503)
        ec2.describe_vpcs()
        self.assert_error(self.client("eks").list_clusters, "ServiceUnavailableException", 503)

    def test_client_error_with_code(self):
        self.rule(service="ec2", action="CreateNatGateway", fault="error", status=400,
                  code="NatGatewayLimitExceeded", message="The maximum number of NAT Gateways has been reached.")
        ec2 = self.client("ec2")
        self.assert_error(lambda: ec2.create_nat_gateway(SubnetId="subnet-12345678", AllocationId="eipalloc-12345678"),
                          "NatGatewayLimitExceeded", 400)
        ec2.describe_vpcs()

    def test_count_limits_firing(self):
        self.rule(service="sts", fault="throttle", count=2)
        sts = self.client("sts")
        for _ in range(2):
            self.assert_error(sts.get_caller_identity, "Throttling", 400)
        sts.get_caller_identity()

    def test_probability_with_seed_is_deterministic(self):
        def run():
            control("DELETE", f"rules?account={self.account}")
            self.rule(service="sts", fault="throttle", probability=0.5, seed=42)
            sts, out = self.client("sts"), []
            for _ in range(12):
                try:
                    sts.get_caller_identity()
                    out.append(0)
                except botocore.exceptions.ClientError:
                    out.append(1)
            return out
        first = run()
        self.assertEqual(first, run())
        self.assertTrue(0 < sum(first) < 12, first)

    def test_reset(self):
        self.rule(service="sts", fault="reset", count=1)
        sts = self.client("sts")
        with self.assertRaises((botocore.exceptions.HTTPClientError,
                                botocore.exceptions.ConnectionError)):
            sts.get_caller_identity()
        sts.get_caller_identity()

    def test_timeout(self):
        self.rule(service="sts", fault="timeout", ms=3000, count=1)
        sts = self.client("sts", read_timeout=0.5)
        t = time.monotonic()
        with self.assertRaises(botocore.exceptions.ReadTimeoutError):
            sts.get_caller_identity()
        self.assertLess(time.monotonic() - t, 2.5)

    def test_latency(self):
        self.rule(service="sts", fault="latency", ms=400)
        t = time.monotonic()
        self.client("sts").get_caller_identity()
        self.assertGreaterEqual(time.monotonic() - t, 0.4)

    def test_forward_then_error(self):
        # the request takes effect in moto, but the client sees a 500
        self.rule(service="ec2", action="CreateVpc", fault="error", forward=True, count=1)
        ec2 = self.client("ec2")
        self.assert_error(lambda: ec2.create_vpc(CidrBlock="10.9.0.0/16"), "InternalError", 500)
        cidrs = [v["CidrBlock"] for v in ec2.describe_vpcs()["Vpcs"]]
        self.assertIn("10.9.0.0/16", cidrs)

    def test_rewrite_eks_cluster_creating_for_n_polls(self):
        eks = self.client("eks")
        self.eks_cluster(eks, "alpha")
        self.eks_cluster(eks, "beta")
        self.rule(service="eks", action="DescribeCluster", fault="rewrite",
                  **{"from": "ACTIVE", "to": "CREATING", "polls": 3})
        seen = [eks.describe_cluster(name="alpha")["cluster"]["status"] for _ in range(5)]
        self.assertEqual(seen, ["CREATING"] * 3 + ["ACTIVE"] * 2)
        # the counter is per resource: beta gets its own 3
        seen = [eks.describe_cluster(name="beta")["cluster"]["status"] for _ in range(4)]
        self.assertEqual(seen, ["CREATING"] * 3 + ["ACTIVE"])

    def test_rewrite_eks_nodegroup(self):
        eks = self.client("eks")
        self.eks_cluster(eks, "ng")
        sub = eks.describe_cluster(name="ng")["cluster"]["resourcesVpcConfig"]["subnetIds"]
        eks.create_nodegroup(clusterName="ng", nodegroupName="workers", subnets=sub,
                             nodeRole=f"arn:aws:iam::{self.account}:role/node")
        self.rule(service="eks", action="DescribeNodegroup", fault="rewrite",
                  **{"from": "ACTIVE", "to": "CREATING", "polls": 2})
        seen = [eks.describe_nodegroup(clusterName="ng", nodegroupName="workers")["nodegroup"]["status"]
                for _ in range(3)]
        self.assertEqual(seen, ["CREATING", "CREATING", "ACTIVE"])

    def test_rewrite_ec2_instance_state(self):
        ec2 = self.client("ec2")
        iid = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                                InstanceType="t3.micro")["Instances"][0]["InstanceId"]
        self.rule(service="ec2", action="DescribeInstances", fault="rewrite",
                  **{"from": "running", "to": "pending", "polls": 2})
        states = []
        for _ in range(3):
            inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
            states.append((inst["State"]["Name"], inst["State"]["Code"]))
        self.assertEqual(states, [("pending", 0), ("pending", 0), ("running", 16)])

    def test_rewrite_ec2_vpc_state(self):
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        self.rule(service="ec2", action="DescribeVpcs", fault="rewrite",
                  **{"from": "available", "to": "pending", "polls": 1})
        seen = [ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["State"] for _ in range(2)]
        self.assertEqual(seen, ["pending", "available"])

    def test_rewrite_rds_instance_status(self):
        rds = self.client("rds")
        rds.create_db_instance(DBInstanceIdentifier="db1", DBInstanceClass="db.t3.micro",
                               Engine="mysql", MasterUsername="admin",
                               MasterUserPassword="secret123", AllocatedStorage=20)
        self.rule(service="rds", action="DescribeDBInstances", fault="rewrite",
                  **{"from": "available", "to": "creating", "polls": 2})
        seen = [rds.describe_db_instances(DBInstanceIdentifier="db1")["DBInstances"][0]["DBInstanceStatus"]
                for _ in range(3)]
        self.assertEqual(seen, ["creating", "creating", "available"])

    def test_stats_count_actions(self):
        ec2, sts = self.client("ec2"), self.client("sts")
        self.rule(service="sts", fault="throttle", count=1)
        ec2.describe_vpcs()
        ec2.describe_vpcs()
        with self.assertRaises(botocore.exceptions.ClientError):
            sts.get_caller_identity()
        sts.get_caller_identity()
        self.client("eks").list_clusters()
        st = control("GET", f"stats?account={self.account}")
        self.assertEqual(st["counts"]["ec2"]["DescribeVpcs"], 2)
        self.assertEqual(st["counts"]["sts"]["GetCallerIdentity"], 2)
        self.assertEqual(st["counts"]["eks"]["ListClusters"], 1)
        self.assertEqual(st["total"], 5)
        self.assertEqual([(c["service"], c["action"], c["status"]) for c in st["calls"]], [
            ("ec2", "DescribeVpcs", 200), ("ec2", "DescribeVpcs", 200),
            ("sts", "GetCallerIdentity", 400), ("sts", "GetCallerIdentity", 200),
            ("eks", "ListClusters", 200)])
        self.assertEqual(st["calls"][2]["fault"], "throttle")
        # clearing this account's rules and stats
        control("DELETE", f"rules?account={self.account}")
        self.assertEqual(control("GET", f"stats?account={self.account}")["total"], 0)

    def test_a_call_is_counted_before_its_answer_arrives(self):
        # A client that reads the stats right after its last answer (or broken connection) sees
        # that call: the provisioning tests count SDK attempts this way.
        sts = self.client("sts", read_timeout=5)
        self.rule(service="sts", fault="throttle", count=40)
        self.rule(service="ec2", fault="reset", count=20)
        ec2 = self.client("ec2", read_timeout=5)
        for i in range(1, 81):
            if i <= 40:
                with self.assertRaises(botocore.exceptions.ClientError):
                    sts.get_caller_identity()
            elif i <= 60:
                with self.assertRaises((botocore.exceptions.HTTPClientError,
                                        botocore.exceptions.ConnectionError)):
                    ec2.describe_vpcs()
            else:
                sts.get_caller_identity()
            self.assertEqual(control("GET", f"stats?account={self.account}")["total"], i)

    def test_control_api_rejects_bad_rule(self):
        with self.assertRaises(urllib.error.HTTPError) as cm:
            control("POST", "rules", {"fault": "explode"})
        self.assertEqual(cm.exception.code, 400)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            control("POST", "rules", {"fault": "error", "status": 400})
        self.assertEqual(cm.exception.code, 400)


if __name__ == "__main__":
    unittest.main(verbosity=2)
