"""Plain ACL (4.9.8's rocketmq-acl module): signatures, address patterns, permissions, the plain_acl.yml manager.

Pure: nothing here knows trio or sockets; the broker's dispatch hook and file watcher live in broker/acl_service.py.
"""
