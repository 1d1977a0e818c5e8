"""rocketpy.broker: the Broker (broker.BrokerController and its processors).

Control plane (this package's first half): config.py / config_update.py (broker.conf, GET/UPDATE_BROKER_CONFIG),
topic_validator.py, topic_config.py, subscription_group.py, offsets.py, client_manager.py / consumer_manager.py,
rebalance_lock.py, namesrv_registration.py, persistence.py, store_view.py, controller.py, and processors/ for
the request families (client_manage, consumer_manage, admin_topic, admin_config, admin_group, lock).
"""
