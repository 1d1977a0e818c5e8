"""JSON bodies of RocketMQ commands, as typed dataclasses that encode and decode the way fastjson does.

One module per family: data_version, topic_config, register, route, cluster, topic_list, kv. Each class has
`to_obj()`/`from_obj()` (plain Python values, bean properties sorted like fastjson's SortField) and
`to_json()`/`from_json()`; decoding raises BodyError for a body that does not fit the Java class.
"""

from rocketpy.protocol.bodies._fields import BodyError
from rocketpy.protocol.bodies.cluster import ClusterInfo
from rocketpy.protocol.bodies.data_version import DataVersion
from rocketpy.protocol.bodies.kv import KVTable
from rocketpy.protocol.bodies.register import RegisterBrokerBody, RegisterBrokerResult, body_crc32
from rocketpy.protocol.bodies.route import BrokerData, QueueData, TopicRouteData
from rocketpy.protocol.bodies.topic_config import TopicConfig, TopicConfigSerializeWrapper, TopicFilterType
from rocketpy.protocol.bodies.topic_list import TopicList

__all__ = [
    "BodyError",
    "BrokerData",
    "ClusterInfo",
    "DataVersion",
    "KVTable",
    "QueueData",
    "RegisterBrokerBody",
    "RegisterBrokerResult",
    "TopicConfig",
    "TopicConfigSerializeWrapper",
    "TopicFilterType",
    "TopicList",
    "TopicRouteData",
    "body_crc32",
]
