"""`rocketpy admin`: mqadmin's command line (tools.command.MQAdminStartup) over the Python admin client.

Every 4.9.8 subcommand name is known; the ones not implemented yet say so and exit with status 3 instead of
pretending. Errors print the response code and remark (`CODE: 17  DESC: ...`) on stderr and exit with status 1.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import TextIO

import trio

from rocketpy.admin import (
    acl_commands,
    broker_commands,
    consumer_commands,
    consumer_status,
    export_commands,
    export_metrics,
    message_commands,
    message_query_commands,
    monitor,
    namesrv_commands,
    offset_commands,
    send_rt_commands,
    stats_commands,
    topic_commands,
    trace_commands,
)
from rocketpy.admin.command import SubCommand
from rocketpy.client.acl import tools_credentials
from rocketpy.client.admin import AdminClient
from rocketpy.protocol.errors import RocketMQError

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_IMPLEMENTED = 3

# MQAdminStartup.initCommand, in its order: (name, mqadmin's description)
CATALOG: tuple[tuple[str, str], ...] = (
    ("updateTopic", "Update or create topic"),
    ("deleteTopic", "Delete topic from broker and NameServer."),
    ("updateSubGroup", "Update or create subscription group"),
    ("deleteSubGroup", "Delete subscription group from broker."),
    ("updateBrokerConfig", "Update broker's config"),
    ("updateTopicPerm", "Update topic perm"),
    ("topicRoute", "Examine topic route info"),
    ("topicStatus", "Examine topic Status info"),
    ("topicClusterList", "get cluster info for topic"),
    ("brokerStatus", "Fetch broker runtime status data"),
    ("queryMsgById", "Query Message by Id"),
    ("queryMsgByKey", "Query Message by Key"),
    ("queryMsgByUniqueKey", "Query Message by Unique key"),
    ("queryMsgByOffset", "Query Message by offset"),
    ("queryMsgTraceById", "query a message trace"),
    ("printMsg", "Print Message Detail"),
    ("printMsgByQueue", "Print Message Detail"),
    ("sendMsgStatus", "send msg to broker."),
    ("brokerConsumeStats", "Fetch broker consume stats data"),
    ("producerConnection", "Query producer's socket connection and client version"),
    ("consumerConnection", "Query consumer's socket connection, client version and subscription"),
    ("consumerProgress", "Query consumers's progress, speed"),
    ("consumerStatus", "Query consumer's internal data structure"),
    ("cloneGroupOffset", "clone offset from other group."),
    ("producer", "Query producer's instances, connection, status, etc."),
    ("clusterList", "List all of clusters"),
    ("topicList", "Fetch all topic list from name server"),
    ("updateKvConfig", "Create or update KV config."),
    ("deleteKvConfig", "Delete KV config."),
    ("wipeWritePerm", "Wipe write perm of broker in all name server you defined in the -n param"),
    ("addWritePerm", "Add write perm of broker in all name server you defined in the -n param"),
    ("resetOffsetByTime", "Reset consumer offset by timestamp(without client restart)."),
    ("skipAccumulatedMessage", "Skip all messages that are accumulated (not consumed) currently"),
    ("updateOrderConf", "Create or update or delete order conf"),
    ("cleanExpiredCQ", "Clean expired ConsumeQueue on broker."),
    ("deleteExpiredCommitLog", "Delete expired CommitLog files"),
    ("cleanUnusedTopic", "Clean unused topic on broker."),
    ("startMonitoring", "Start Monitoring"),
    ("statsAll", "Topic and Consumer tps stats"),
    ("allocateMQ", "Allocate MQ"),
    ("checkMsgSendRT", "check message send response time"),
    ("clusterRT", "List All clusters Message Send RT"),
    ("getNamesrvConfig", "Get configs of name server."),
    ("updateNamesrvConfig", "Update configs of name server."),
    ("getBrokerConfig", "Get broker config by cluster or special broker!"),
    ("getConsumerConfig", "Get consumer config by subscription group name!"),
    ("queryCq", "Query cq command."),
    ("sendMessage", "Send a message"),
    ("consumeMessage", "Consume message"),
    ("updateAclConfig", "Update acl config yaml file in broker"),
    ("deleteAclConfig", "Delete Acl Config Account in broker"),
    ("clusterAclConfigVersion", "List all of acl config version information in cluster"),
    ("updateGlobalWhiteAddr", "Update global white address for acl Config File in broker"),
    ("exportMetadata", "export metadata"),
    ("exportConfigs", "export configs"),
    ("exportMetrics", "export metrics"),
)

IMPLEMENTED: dict[str, type[SubCommand]] = {
    cls.NAME: cls
    for cls in (
        namesrv_commands.ClusterList,
        namesrv_commands.GetNamesrvConfig,
        namesrv_commands.UpdateNamesrvConfig,
        namesrv_commands.UpdateKvConfig,
        namesrv_commands.DeleteKvConfig,
        namesrv_commands.WipeWritePerm,
        namesrv_commands.AddWritePerm,
        topic_commands.TopicList,
        topic_commands.TopicRoute,
        topic_commands.TopicClusterList,
        topic_commands.UpdateTopic,
        topic_commands.DeleteTopic,
        topic_commands.TopicStatus,
        topic_commands.AllocateMQ,
        broker_commands.GetBrokerConfig,
        broker_commands.UpdateBrokerConfig,
        broker_commands.BrokerStatus,
        broker_commands.UpdateSubGroup,
        broker_commands.DeleteSubGroup,
        broker_commands.CleanUnusedTopic,
        broker_commands.DeleteExpiredCommitLog,
        consumer_commands.ConsumerConnectionCommand,
        consumer_commands.ProducerConnectionCommand,
        consumer_commands.ConsumerProgress,
        consumer_commands.GetConsumerConfig,
        consumer_commands.UpdateTopicPerm,
        consumer_commands.UpdateOrderConf,
        message_commands.SendMessage,
        message_commands.QueryMsgByKey,
        offset_commands.CloneGroupOffset,
        offset_commands.ResetOffsetByTime,
        offset_commands.SkipAccumulatedMessage,
        stats_commands.BrokerConsumeStats,
        stats_commands.StatsAll,
        stats_commands.Producer,
        stats_commands.CleanExpiredCQ,
        consumer_status.ConsumerStatus,
        monitor.StartMonitoring,
        acl_commands.UpdateAclConfig,
        acl_commands.DeleteAclConfig,
        acl_commands.ClusterAclConfigVersion,
        acl_commands.UpdateGlobalWhiteAddr,
        export_commands.ExportMetadata,
        export_commands.ExportConfigs,
        export_metrics.ExportMetrics,
        message_query_commands.QueryMsgById,
        message_query_commands.QueryMsgByUniqueKey,
        message_query_commands.QueryMsgByOffset,
        message_query_commands.PrintMsg,
        message_query_commands.PrintMsgByQueue,
        message_query_commands.QueryCq,
        message_query_commands.ConsumeMessage,
        send_rt_commands.SendMsgStatus,
        send_rt_commands.CheckMsgSendRT,
        send_rt_commands.ClusterRT,
        trace_commands.QueryMsgTraceById,
    )
}


def print_help(out: TextIO) -> None:
    """MQAdminStartup.printHelp, with each command's state in rocketpy."""
    out.write("The most commonly used mqadmin commands are:\n")
    for name, desc in CATALOG:
        mark = "" if name in IMPLEMENTED else "  [not yet in rocketpy admin]"
        out.write(f"   {name:<20} {desc}{mark}\n")
    out.write("\nSee 'rocketpy admin help <command>' for more information on a specific command.\n")


def build_parser(command: SubCommand) -> argparse.ArgumentParser:
    """ServerUtil.buildCommandlineOptions (-h, -n) plus the subcommand's own options."""
    parser = argparse.ArgumentParser(prog=f"rocketpy admin {command.NAME}", description=command.HELP)
    parser.add_argument(
        "-n",
        "--namesrvAddr",
        dest="namesrvAddr",
        help="Name server address list, eg: 192.168.0.1:9876;192.168.0.2:9876",
    )
    command.add_arguments(parser)
    return parser


def namesrv_list(value: str | None) -> list[str]:
    """-n, else the NAMESRV_ADDR environment variable (as mqadmin)."""
    text = value or os.environ.get("NAMESRV_ADDR") or ""
    return [a.strip() for a in text.split(";") if a.strip()]


def parse(argv: Sequence[str], out: TextIO, err: TextIO) -> tuple[SubCommand, argparse.Namespace] | int:
    """The subcommand and its arguments, or an exit status once help or an error has been printed."""
    args = list(argv)
    if not args:
        print_help(out)
        return 0
    if args[0] == "help" and len(args) == 2:
        args = [args[1], "-h"]
    name = args[0]
    known = dict(CATALOG)
    if name not in known:
        out.write(f"The sub command {name} not exist.\n")
        return EXIT_USAGE
    cls = IMPLEMENTED.get(name)
    if cls is None:
        err.write(
            f"rocketpy admin: the mqadmin subcommand {name} ({known[name]}) is not implemented in rocketpy admin yet; "
            "use mqadmin for it (see docs/admin.md)\n"
        )
        return EXIT_NOT_IMPLEMENTED
    command = cls()
    try:
        namespace = build_parser(command).parse_args(args[1:])
    except SystemExit as exc:  # argparse printed the usage or the help
        return int(exc.code or 0)
    return command, namespace


async def execute(command: SubCommand, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run one parsed subcommand; print its output like mqadmin, or its failure with code and remark."""
    failure: str | None = None
    try:
        interval = command.repeat_every(args)
        credentials = await trio.to_thread.run_sync(tools_credentials)  # mqadmin's ROCKETMQ_HOME/conf/tools.yml
        async with AdminClient(namesrv_list(args.namesrvAddr), credentials=credentials) as admin:
            try:  # inside the client's nursery, so that the error is not wrapped in an ExceptionGroup
                while True:
                    data = await command.run(admin, args)
                    command.render(data, out)
                    if interval is None:
                        break
                    out.flush()
                    await trio.sleep(interval)
            except RocketMQError as exc:
                failure = f"CODE: {exc.code}  DESC: {exc.remark}" if exc.code >= 0 else str(exc.remark)
            except ValueError as exc:  # a malformed number in an option
                failure = str(exc)
            except (KeyError, TypeError, UnicodeError) as exc:  # an answer this client cannot read
                failure = f"unexpected answer: {type(exc).__name__}: {exc}"
    except ValueError as exc:  # no NameServer address, a malformed -i
        failure = str(exc)
    if failure is not None:
        out.flush()
        err.write(f"rocketpy admin {command.NAME} failed: {failure}\n")
        return EXIT_FAILED
    return 0
