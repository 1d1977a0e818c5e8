"""Transactional messages: half messages, op records, the check-back service (broker.transaction of 4.9.8).

- `bridge`: the store side (TransactionalMessageBridge): half / op / discard / put-back records and queue reads.
- `check`: one check pass over the half queues (TransactionalMessageServiceImpl.check), pure over the bridge.
- `service`: the trio task that runs a pass every transactionCheckInterval and sends CHECK_TRANSACTION_STATE to
  a live producer of the group (TransactionalMessageCheckService + AbstractTransactionalMessageCheckListener).
"""
