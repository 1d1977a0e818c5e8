"""UPDATE_BROKER_CONFIG (25): which keys may change at runtime, all or nothing.

Java's AdminBrokerProcessor.updateBrokerConfig refuses only configBlackList keys (configBlackList, brokerConfigPath
in 4.9.8) and then copies *any* other key into the live objects: CVE-2023-33246 set rocketmqHome and
filterServerNums that way and got a shell. Here every key must be on RUNTIME_KEYS, a key that names a path, a
directory, a home, a file, an address, a port or a command is refused outright, and a single bad key refuses the
whole request with NO_PERMISSION before anything is applied. A value that does not parse refuses it with
SYSTEM_ERROR, also applying nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rocketpy.broker.config import KEYS, BrokerSettings, parse_value
from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError

# Keys whose change is safe while running (and that either take effect at once or are harmless until restart).
RUNTIME_KEYS = frozenset(
    {
        "brokerPermission",
        "defaultTopicQueueNums",
        "autoCreateTopicEnable",
        "autoCreateSubscriptionGroup",
        "clusterTopicEnable",
        "brokerTopicEnable",
        "traceTopicEnable",
        "flushConsumerOffsetInterval",
        "flushConsumerOffsetHistoryInterval",
        "rejectTransactionMessage",
        "longPollingEnable",
        "shortPollingTimeMills",
        "notifyConsumerIdsChangedEnable",
        "highSpeedMode",
        "transferMsgByHeap",
        "maxDelayTime",
        "registerBrokerTimeoutMills",
        "slaveReadEnable",
        "disableConsumeIfConsumerReadSlowly",
        "consumerFallbehindThreshold",
        "brokerFastFailureEnable",
        "waitTimeMillsInSendQueue",
        "waitTimeMillsInPullQueue",
        "waitTimeMillsInHeartbeatQueue",
        "waitTimeMillsInTransactionQueue",
        "traceOn",
        "enablePropertyFilter",
        "filterSupportRetry",
        "compressedRegister",
        "forceRegister",
        "registerNameServerPeriod",
        "transactionTimeOut",
        "transactionCheckMax",
        "transactionCheckInterval",
        "storeReplyMessageEnable",
        "enableDetailStat",
        "autoDeleteUnusedStats",
        "deleteWhen",
        "diskMaxUsedSpaceRatio",
        "fileReservedTime",
        "maxMessageSize",
        "cleanResourceInterval",
        "flushIntervalCommitLog",
        "flushIntervalConsumeQueue",
        "flushCommitLogLeastPages",
        "flushConsumeQueueLeastPages",
        "flushCommitLogThoroughInterval",
        "flushConsumeQueueThoroughInterval",
        "maxTransferBytesOnMessageInMemory",
        "maxTransferCountOnMessageInMemory",
        "maxTransferBytesOnMessageInDisk",
        "maxTransferCountOnMessageInDisk",
        "accessMessageInMemoryMaxRatio",
        "syncFlushTimeout",
        "defaultQueryMaxNum",
    }
)
ALWAYS_REFUSED = frozenset({"configBlackList", "brokerConfigPath", "rocketmqHome", "aclEnable", "filterServerNums"})
# fileReservedTime is a retention setting, not a file name: the suffix rule below is what RELIABILITY.md asks for.
_DANGEROUS = re.compile(r"(Path|Dir|Home|File|Addr|Address|Port|Command|Cmd|Exec|Shell)s?$|^storePath|IP\d*$")

BLACK_LIST_REMARK = "Can not update config in black list."


def black_list(settings: BrokerSettings) -> set[str]:
    return set(ALWAYS_REFUSED) | {k for k in settings.broker.config_black_list.split(";") if k}


def check_update(settings: BrokerSettings, props: Mapping[str, str]) -> dict[str, Any]:
    """Validate every key and value; return the parsed values or raise RocketMQError (nothing applied)."""
    refused = black_list(settings)
    for key in props:
        if key in refused or _DANGEROUS.search(key):
            raise RocketMQError(ResponseCode.NO_PERMISSION, BLACK_LIST_REMARK)
        if key not in RUNTIME_KEYS:
            raise RocketMQError(ResponseCode.NO_PERMISSION, f"Can not update config {key}: not updatable at runtime.")
    parsed: dict[str, Any] = {}
    for key, text in props.items():
        try:
            parsed[key] = parse_value(KEYS[key], text)
        except ValueError as exc:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"invalid value for {key}: {exc}") from None
    if "brokerPermission" in parsed and not 0 <= parsed["brokerPermission"] <= 15:
        raise RocketMQError(ResponseCode.SYSTEM_ERROR, "invalid value for brokerPermission: must be 0..15")
    return parsed


def apply_update(settings: BrokerSettings, parsed: Mapping[str, Any], now_ms: int) -> None:
    """Configuration.update: set the values and bump the configuration's DataVersion."""
    for key, value in parsed.items():
        settings.set(key, value)
    settings.data_version.next_version(now_ms)
