"""PrioritySort: higher priority first, then first come, first served."""
from controlplane.scheduler.framework import QueueSortPlugin


class PrioritySort(QueueSortPlugin):
    name = "PrioritySort"

    def sort_key(self, pod, enqueued_at):
        return (-pod.priority, enqueued_at)
