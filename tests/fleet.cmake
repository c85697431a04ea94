# The fleet: the pure rules (fleet_conf.c, fleet_proto.c) from the tables
# in tests/data/fleet/.
kt_unit_test(fleet_conf SOURCES test_fleet_conf.c)
