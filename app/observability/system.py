"""Process and host resource use as JSON numbers (``GET /health/metrics``).

Every call reads a few /proc files; CPU percentages cover the time since the
previous call (the sampler is primed when created, so the first one means something).
"""

from __future__ import annotations

import os
import time

import psutil

from app.schemas.health import HostStats, ProcessStats, SystemMetricsResponse


class SystemSampler:
    """Keeps the ``psutil.Process`` whose CPU counters the percentages are measured from."""

    def __init__(self, disk_path: str = "/") -> None:
        self.disk_path = disk_path
        self._process = psutil.Process()
        self._process.cpu_percent(None)
        psutil.cpu_percent(None)

    def sample(self) -> SystemMetricsResponse:
        return SystemMetricsResponse(
            timestamp=round(time.time(), 3), process=self._process_stats(), system=self._host()
        )

    def _process_stats(self) -> ProcessStats:
        process = self._process
        with process.oneshot():
            memory = process.memory_info()
            return ProcessStats(
                pid=process.pid,
                cpu_percent=process.cpu_percent(None),
                memory_rss_bytes=memory.rss,
                memory_vms_bytes=memory.vms,
                memory_percent=round(process.memory_percent(), 3),
                threads=process.num_threads(),
                open_fds=process.num_fds(),
                uptime_seconds=round(time.time() - process.create_time(), 3),
            )

    def _host(self) -> HostStats:
        memory = psutil.virtual_memory()
        disk = psutil.disk_usage(self.disk_path)
        return HostStats(
            cpu_usage_percent=psutil.cpu_percent(None),
            cpu_count=psutil.cpu_count() or 1,
            load_average=[round(x, 3) for x in os.getloadavg()],
            memory_usage_percent=memory.percent,
            memory_total_bytes=memory.total,
            memory_available_bytes=memory.available,
            disk_path=self.disk_path,
            disk_usage_percent=disk.percent,
            disk_total_bytes=disk.total,
            disk_free_bytes=disk.free,
        )
