using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace TcpTalk.Journal.Postgres.Tests;

/// <summary>
/// A PostgreSQL primary, and optionally a synchronous standby, of this test run: Debian's PostgreSQL binaries,
/// initdb'd into a temp folder, on free loopback ports, run as the <c>postgres</c> user when the tests run as root
/// (PostgreSQL refuses root). Started and stopped with pg_ctl, which signals exactly the postmaster it started (the
/// PID in its data folder); the folder is removed afterwards. Nothing of the Debian package's own cluster is used.
/// </summary>
internal sealed class PostgresCluster : IAsyncDisposable
{
    public const string Password = "tcptalk-test-pw";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly List<string> _running = [];
    private readonly List<string> _mounts = [];

    private PostgresCluster(string folder)
    {
        Folder = folder;
    }

    /// <summary>The folder of pg_ctl and friends, or null when PostgreSQL is not installed.</summary>
    public static string? BinFolder { get; } = FindBinFolder();

    /// <summary>Why the PostgreSQL tests cannot run here, or null when they can.</summary>
    public static string? MissingReason { get; } = BinFolder is null
        ? "needs PostgreSQL: apt-get install postgresql (looked for /usr/lib/postgresql/*/bin/initdb)"
        : Environment.UserName == "root" && !File.Exists("/usr/sbin/runuser") && !File.Exists("/sbin/runuser")
            ? "running as root needs runuser (util-linux) to start PostgreSQL as the postgres user"
            : null;

    public string Folder { get; }

    public int PrimaryPort { get; private set; }

    public int StandbyPort { get; private set; }

    public bool HasStandby => StandbyPort != 0;

    private string PrimaryData => Path.Combine(Folder, "primary");

    private string StandbyData => Path.Combine(Folder, "standby");

    /// <summary>The URI a journal uses: every host of the cluster (primary first), the postgres superuser, and <paramref name="schema"/>.</summary>
    public string Uri(string schema, string? extra = null) =>
        $"postgres://postgres:{Password}@127.0.0.1:{PrimaryPort}" + (HasStandby ? $",127.0.0.1:{StandbyPort}" : "") +
        $"/postgres?schema={schema}" + (extra is null ? "" : "&" + extra);

    /// <summary>A connection string to one host only, for the tests' own checks.</summary>
    public string ConnectionString(int port) =>
        $"Host=127.0.0.1;Port={port};Username=postgres;Password={Password};Database=postgres;Pooling=false;Timeout=5";

    /// <summary>Starts a primary, and with <paramref name="standby"/> a synchronous standby copied from it by pg_basebackup.</summary>
    public static async Task<PostgresCluster> StartAsync(bool standby)
    {
        var folder = Directory.CreateTempSubdirectory("tcptalk-pg-").FullName;
        var cluster = new PostgresCluster(folder);
        try
        {
            await cluster.StartPrimaryAsync().ConfigureAwait(false);
            if (standby)
            {
                await cluster.StartStandbyAsync().ConfigureAwait(false);
            }
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return cluster;
    }

    private async Task StartPrimaryAsync()
    {
        File.WriteAllText(Path.Combine(Folder, "pw"), Password + "\n");
        await RunAsPostgresAsync("chown", "-R", "postgres:postgres", Folder).ConfigureAwait(false);
        await RunAsync("initdb", "-D", PrimaryData, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
            "--pwfile", Path.Combine(Folder, "pw"), "-E", "UTF8", "--no-sync", "--no-instructions").ConfigureAwait(false);
        PrimaryPort = FreePort();
        Configure(PrimaryData, PrimaryPort, "wal_level = replica", "max_wal_senders = 4", "wal_keep_size = '64MB'");
        await PgCtlStartAsync(PrimaryData).ConfigureAwait(false);
    }

    private async Task StartStandbyAsync()
    {
        await RunAsync("pg_basebackup", "-h", Folder, "-p", PrimaryPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-U", "postgres", "-D", StandbyData, "-R", "-X", "stream", "--no-sync").ConfigureAwait(false);
        StandbyPort = FreePort();
        Configure(StandbyData, StandbyPort, "cluster_name = 'standby1'");
        await PgCtlStartAsync(StandbyData).ConfigureAwait(false);
        // Set only on the primary, after the copy: a promoted standby must not wait for a standby of its own.
        await ExecuteAsync(PrimaryPort, "ALTER SYSTEM SET synchronous_standby_names = '*'; SELECT pg_reload_conf()").ConfigureAwait(false);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (await ScalarAsync(PrimaryPort, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'").ConfigureAwait(false) is not 1L)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException("the standby did not become synchronous within 20 s; see " + Folder);
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the primary at once, as a crash would (pg_ctl -m immediate: no shutdown checkpoint).</summary>
    public Task StopPrimaryAsync() => PgCtlStopAsync(PrimaryData);

    /// <summary>Makes the standby the primary (pg_ctl promote, waits until it accepts writes).</summary>
    public async Task PromoteStandbyAsync()
    {
        await RunAsync("pg_ctl", "-D", StandbyData, "-w", "-t", "30", "promote").ConfigureAwait(false);
    }

    /// <summary>
    /// Mounts a tmpfs of <paramref name="megabytes"/> MiB, owned by postgres, at a folder of this cluster (root only):
    /// a disk the test can fill. Unmounted by <see cref="DisposeAsync"/>.
    /// </summary>
    public async Task<string> MountSmallDiskAsync(int megabytes)
    {
        string folder = Path.Combine(Folder, "small-disk");
        Directory.CreateDirectory(folder);
        await RunAsPostgresAsync("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=700", "tmpfs", folder).ConfigureAwait(false);
        _mounts.Add(folder);
        await RunAsPostgresAsync("chown", "postgres:postgres", folder).ConfigureAwait(false);
        return folder;
    }

    /// <summary>Grows a disk of <see cref="MountSmallDiskAsync"/> to <paramref name="megabytes"/> MiB (tmpfs resizes in place).</summary>
    public Task GrowDiskAsync(string folder, int megabytes) =>
        RunAsPostgresAsync("mount", "-o", $"remount,size={megabytes}m", folder);

    public async Task ExecuteAsync(int port, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(port));
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    public async Task<object?> ScalarAsync(int port, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(port));
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var data in _running.ToArray())
        {
            try
            {
                await PgCtlStopAsync(data).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Already stopped (a test stopped it); nothing else to end.
            }
        }

        foreach (var mount in _mounts)
        {
            try
            {
                await RunAsPostgresAsync("umount", "-l", mount).ConfigureAwait(false); // lazy: PostgreSQL is stopped, but be sure
            }
            catch (Exception)
            {
                // Nothing mounted there any more.
            }
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // The OS cleans temp folders eventually.
        }
    }

    private async Task PgCtlStartAsync(string data)
    {
        await RunAsync("pg_ctl", "-D", data, "-l", data + ".log", "-w", "-t", "30", "start").ConfigureAwait(false);
        _running.Add(data);
    }

    private async Task PgCtlStopAsync(string data)
    {
        await RunAsync("pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "30", "stop").ConfigureAwait(false);
        _running.Remove(data);
    }

    private void Configure(string data, int port, params string[] settings)
    {
        // fsync stays on: the tests are about what a COMMIT promises. Loopback only, socket in our own folder.
        File.AppendAllLines(Path.Combine(data, "postgresql.conf"),
            [$"port = {port}", "listen_addresses = '127.0.0.1'", $"unix_socket_directories = '{Folder}'", "max_connections = 50",
             "shared_buffers = '32MB'", "logging_collector = off", .. settings]);
    }

    /// <summary>Runs a PostgreSQL program from <see cref="BinFolder"/> as the postgres user (directly when not root).</summary>
    private Task RunAsync(string program, params string[] arguments) =>
        RunAsPostgresAsync(Path.Combine(BinFolder!, program), arguments);

    private static async Task RunAsPostgresAsync(string program, params string[] arguments)
    {
        bool root = Environment.UserName == "root";
        bool asRoot = program is "chown" or "mount" or "umount";
        if (!root && program == "chown")
        {
            return;
        }

        var start = new ProcessStartInfo(root && !asRoot ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (root && !asRoot)
        {
            foreach (var a in (string[])["-u", "postgres", "--", program])
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(); // our own child (pg_ctl, initdb), by its PID
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {CommandTimeout}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stderr.ConfigureAwait(false)}{await stdout.ConfigureAwait(false)}");
        }
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static string? FindBinFolder()
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/usr/lib/postgresql"))
        {
            return null;
        }

        return Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => Path.Combine(d, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
            .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out int v) ? v : 0)
            .FirstOrDefault();
    }
}
