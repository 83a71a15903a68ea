using System.Diagnostics;
using System.Text;

namespace TcpTalk.Admin;

/// <summary>
/// The process and .NET runtime basics every Prometheus client library exports (process_* by the names of the
/// Prometheus conventions, dotnet_* for the GC and the thread pool), read from the runtime at scrape time.
/// </summary>
internal static class ProcessMetrics
{
    private static readonly double s_startTime = ReadStartTime();

    private static double ReadStartTime()
    {
        using var self = Process.GetCurrentProcess();
        return (self.StartTime.ToUniversalTime() - DateTime.UnixEpoch).TotalSeconds;
    }

    public static void WriteTo(StringBuilder text)
    {
        Family(text, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", Environment.CpuUsage.TotalTime.TotalSeconds);
        Family(text, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", Environment.WorkingSet);
        Family(text, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", Math.Round(s_startTime, 3));
        if (OperatingSystem.IsLinux() && OpenDescriptors() is { } open)
        {
            Family(text, "process_open_fds", "gauge", "Number of open file descriptors.", open);
        }

        text.Append("# HELP dotnet_gc_collections_total Garbage collections since the process started, by generation.\n")
            .Append("# TYPE dotnet_gc_collections_total counter\n");
        for (int generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            text.Append("dotnet_gc_collections_total{generation=\"").Append(generation).Append("\"} ").Append(GC.CollectionCount(generation)).Append('\n');
        }

        Family(text, "dotnet_gc_allocated_bytes_total", "counter", "Bytes allocated on the managed heap since the process started.", GC.GetTotalAllocatedBytes());
        Family(text, "dotnet_gc_heap_size_bytes", "gauge", "Bytes currently thought to be allocated on the managed heap.", GC.GetTotalMemory(false));
        Family(text, "dotnet_gc_pause_seconds_total", "counter", "Time the runtime paused for garbage collections.", GC.GetTotalPauseDuration().TotalSeconds);
        Family(text, "dotnet_threadpool_threads", "gauge", "Thread pool threads that exist now.", ThreadPool.ThreadCount);
        Family(text, "dotnet_threadpool_queue_length", "gauge", "Work items queued to the thread pool and not started yet.", ThreadPool.PendingWorkItemCount);
        Family(text, "dotnet_threadpool_work_items_completed_total", "counter", "Work items the thread pool has completed.", ThreadPool.CompletedWorkItemCount);
    }

    private static int? OpenDescriptors()
    {
        try
        {
            return Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void Family(StringBuilder text, string name, string type, string help, double value) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n')
            .Append(name).Append(' ').Append(PrometheusText.Number(value)).Append('\n');
}
