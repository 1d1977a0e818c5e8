"""remoting.netty.NettyServerConfig: the server keys the NameServer and the Broker share (Java declaration order).

The Java class default port is 8888; NamesrvStartup sets 9876 and BrokerStartup 10911, which is why each owner
builds it with its own `listen_port`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class NettyServerConfig:
    listen_port: int = 8888
    server_worker_threads: int = 8
    server_callback_executor_threads: int = 0
    server_selector_threads: int = 3
    server_oneway_semaphore_value: int = 256
    server_async_semaphore_value: int = 64
    server_channel_max_idle_time_seconds: int = 120
    server_socket_snd_buf_size: int = 0
    server_socket_rcv_buf_size: int = 0
    write_buffer_high_water_mark: int = 0
    write_buffer_low_water_mark: int = 0
    server_socket_backlog: int = 1024
    server_pooled_byte_buf_allocator_enable: bool = True
    use_epoll_native_selector: bool = False


def namesrv_netty_config() -> NettyServerConfig:
    return NettyServerConfig(listen_port=9876)


def broker_netty_config() -> NettyServerConfig:
    return NettyServerConfig(listen_port=10911)
