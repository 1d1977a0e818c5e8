"""queryMsgTraceById (tools.command.message.QueryMsgTraceByIdSubCommand): the trace records of a message, read
from the trace topic by the message id (the trace messages' key) and printed as the send and per-group consume
tables."""

from __future__ import annotations

import argparse
import datetime
from typing import Any, TextIO

from rocketpy.admin.command import SubCommand, optional, printf, required
from rocketpy.admin.message_commands import query_by_key
from rocketpy.client.admin import AdminClient
from rocketpy.client.trace_data import TraceView, decode_trace_views
from rocketpy.common.java import java_hash_order

TRACE_TOPIC = "RMQ_SYS_TRACE_TOPIC"  # TopicValidator.RMQ_SYS_TRACE_TOPIC
ROW = "%-10s %-20s %-20s %-20s %-10s %-10s%n"


def _time(millis: int) -> str:
    """DateFormatUtils.format(millis, "yyyy-MM-dd HH:mm:ss"), local time."""
    return datetime.datetime.fromtimestamp(millis / 1000.0).strftime("%Y-%m-%d %H:%M:%S")


class QueryMsgTraceById(SubCommand):
    NAME = "queryMsgTraceById"
    HELP = "query a message trace"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "i", "msgId", "Message Id")
        optional(parser, "t", "traceTopic", "The name value of message trace topic")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        msg_id = args.msgId.strip()
        topic = TRACE_TOPIC if args.traceTopic is None else args.traceTopic.strip()
        views: list[TraceView] = []
        for message in await query_by_key(admin, topic, msg_id, 64):
            views.extend(decode_trace_views(msg_id, message.body, message.born_host.rsplit(":", 1)[0]))
        return views

    def render(self, data: Any, out: TextIO) -> None:
        by_group: dict[str, list[TraceView]] = {}
        for view in data:
            if view.msg_type == "Pub":
                printf(out, ROW, "#Type", "#ProducerGroup", "#ClientHost", "#SendTime", "#CostTimes", "#Status")
                printf(
                    out,
                    ROW,
                    "Pub",
                    view.group_name,
                    view.client_host,
                    _time(view.time_stamp),
                    f"{view.cost_time}ms",
                    view.status,
                )
                out.write("\n")
            if view.msg_type == "SubAfter":
                by_group.setdefault(view.group_name, []).append(view)
        for group in java_hash_order(by_group):
            printf(out, ROW, "#Type", "#ConsumerGroup", "#ClientHost", "#ConsumerTime", "#CostTimes", "#Status")
            for view in by_group[group]:
                printf(
                    out,
                    ROW,
                    "Sub",
                    view.group_name,
                    view.client_host,
                    _time(view.time_stamp),
                    f"{view.cost_time}ms",
                    view.status,
                )
            out.write("\n")
