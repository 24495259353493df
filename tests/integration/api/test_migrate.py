"""`tmirror server migrate`: a SQLite store copied into an empty PostgreSQL database, checked
by describing everything through a server on each; a database that is not empty is refused.
"""

import os
import subprocess
import unittest

from harness import (NLB_ARN, Fixtures, TmirrorServer, close_client, external_endpoint,
                     postgres)


def everything(ec2):
    """What a user can describe, in the server's order, with tags."""
    return {
        "interfaces": ec2.describe_network_interfaces()["NetworkInterfaces"],
        "targets": ec2.describe_traffic_mirror_targets()["TrafficMirrorTargets"],
        "filters": ec2.describe_traffic_mirror_filters()["TrafficMirrorFilters"],
        "sessions": ec2.describe_traffic_mirror_sessions()["TrafficMirrorSessions"],
    }


@unittest.skipIf(external_endpoint(), "starts its own servers")
class Migrate(unittest.TestCase):
    def migrate(self, data_dir, url):
        return subprocess.run([os.environ["TMIRROR_BINARY"], "server", "migrate", "--data-dir",
                               data_dir, "--database", url], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=120)

    def test_a_sqlite_store_moves_into_postgresql_whole(self):
        old = TmirrorServer(database_url="")  # SQLite, whatever the suite's store
        self.addCleanup(old.cleanup)
        old.start()
        ec2 = old.client()
        self.addCleanup(close_client, ec2)
        fx = Fixtures(old, ec2)
        enis = [fx.eni(description="source %d" % i) for i in range(4)]
        targets = [fx.target(tags={"team": "ids"}), fx.target(nlb=True, description="nlb")]
        filters = [fx.filter(description="web", tags={"env": "prod"}), fx.filter()]
        fx.rule(filters[0], 100, Protocol=6, DestinationPortRange={"FromPort": 80, "ToPort": 80})
        fx.rule(filters[0], 200, direction="egress", action="reject", src="10.0.0.0/8")
        ec2.modify_traffic_mirror_filter_network_services(
            TrafficMirrorFilterId=filters[1], AddNetworkServices=["amazon-dns"])
        fx.session(enis[0], targets[0], filters[0], number=1, tags={"owner": "soc"})
        fx.session(enis[0], targets[1], filters[1], number=2, PacketLength=128)
        fx.session(enis[1], targets[0], filters[1], number=1, VirtualNetworkId=4242)
        ec2.delete_traffic_mirror_filter_rule(TrafficMirrorFilterRuleId=fx.rule(filters[1], 1))
        before = everything(ec2)
        self.assertEqual(len(before["sessions"]), 3)
        self.assertIn(NLB_ARN, [t.get("NetworkLoadBalancerArn") for t in before["targets"]])
        old.stop()

        url = postgres().create_database()
        done = self.migrate(old.data_dir, url)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("sessions", done.stdout)

        # Only into an empty database: a second run changes nothing and says why.
        again = self.migrate(old.data_dir, url)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("not empty", again.stderr)

        new = TmirrorServer(database_url=url)
        # The access key moved too: the old credentials work on the new server.
        new.access_key, new.secret_key = old.access_key, old.secret_key
        self.addCleanup(new.cleanup)
        new.start()
        moved = new.client()
        self.addCleanup(close_client, moved)
        self.assertEqual(everything(moved), before)

        # New resources come after the moved ones (keys and order carry on).
        added = Fixtures(new, moved).filter(description="after the move")
        filters_now = moved.describe_traffic_mirror_filters()["TrafficMirrorFilters"]
        self.assertEqual(filters_now[-1]["TrafficMirrorFilterId"], added)
        self.assertEqual(len(filters_now), len(before["filters"]) + 1)

    def test_a_missing_sqlite_store_is_an_error(self):
        url = postgres().create_database()
        res = self.migrate("/nonexistent/tmirror-data", url)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("/nonexistent/tmirror-data", res.stderr)


if __name__ == "__main__":
    unittest.main()
