"""Master/slave replication with the 4.x HA protocol (store/ha of 4.9.8: HAService, HAConnection, HAClient)."""
