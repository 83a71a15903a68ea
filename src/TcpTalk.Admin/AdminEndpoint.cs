using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TcpTalk.Admin;

/// <summary>
/// A small HTTP/1.1 listener for operators: <c>GET /metrics</c> (Prometheus text format 0.0.4), <c>GET /healthz</c>
/// (200 while the process serves) and <c>GET /readyz</c> (200 when <see cref="AdminEndpointOptions.Readiness"/> says
/// ready, else 503 with the reason). One request per connection (Connection: close), GET and HEAD only; bind it to
/// loopback or a management network: it has no authentication.
/// </summary>
/// <remarks>
/// Metrics are collected from construction on, so create it before the server it reports on starts. Everything runs
/// on the thread pool with asynchronous I/O; a scrape never waits for the server, and the server never waits for a
/// scrape (instruments are aggregated lock-free).
/// </remarks>
/// <example>
/// <code>
/// await using var admin = new AdminEndpoint(new AdminEndpointOptions { Listen = new IPEndPoint(IPAddress.Loopback, 9464) });
/// await admin.StartAsync();
/// </code>
/// </example>
public sealed class AdminEndpoint : IAsyncDisposable
{
    private const int MaxRequestHeadBytes = 8192;

    private readonly AdminEndpointOptions _options;
    private readonly MetricsCollector _metrics;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _slots;
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private int _state; // 0 new, 1 started, 2 stopped

    /// <summary>Creates the endpoint and starts collecting metrics; nothing is bound until <see cref="StartAsync"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public AdminEndpoint(AdminEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Listen, "Listen");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentRequests, 1, "MaxConcurrentRequests");
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.RequestTimeout, TimeSpan.Zero, "RequestTimeout");
        _options = options;
        _slots = new SemaphoreSlim(options.MaxConcurrentRequests);
        _metrics = new MetricsCollector(options.MeterFilter);
    }

    /// <summary>The endpoint actually bound (the real port when <see cref="AdminEndpointOptions.Listen"/> asked for 0); null before start.</summary>
    public IPEndPoint? BoundEndpoint { get; private set; }

    /// <summary>Binds and starts serving.</summary>
    /// <exception cref="SocketException">The endpoint cannot be bound (in use, not an address of this host...).</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("The admin endpoint was already started.");
        }

        var listener = new Socket(_options.Listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(_options.Listen);
            listener.Listen(64);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _listener = listener;
        BoundEndpoint = (IPEndPoint)listener.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync(listener, _stopping.Token);
        return Task.CompletedTask;
    }

    /// <summary>What <c>GET /metrics</c> returns now (UTF-8 text, format 0.0.4); safe to call from any thread at any time.</summary>
    public string RenderMetrics()
    {
        var text = new StringBuilder(4096);
        _metrics.WriteTo(text);
        if (_options.IncludeProcessMetrics)
        {
            ProcessMetrics.WriteTo(text);
        }

        return text.ToString();
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                await _slots.WaitAsync(stopping).ConfigureAwait(false);
                client = await listener.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (!stopping.IsCancellationRequested)
            {
                _slots.Release();
                continue; // the peer reset before accept completed; keep serving the others
            }

            _ = ServeAsync(client, stopping);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken stopping)
    {
        try
        {
            using (client)
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping))
            {
                timeout.CancelAfter(_options.RequestTimeout);
                var head = await ReadHeadAsync(client, timeout.Token).ConfigureAwait(false);
                var response = Respond(head);
                await client.SendAsync(response, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or was too slow: nothing to tell anyone, its connection is closed.
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Reads up to the blank line that ends the request head; null when the client closed first or sent too much.</summary>
    private static async Task<string?> ReadHeadAsync(Socket client, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestHeadBytes];
        int filled = 0;
        while (filled < buffer.Length)
        {
            int n = await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return null;
            }

            int searchFrom = Math.Max(0, filled - 3);
            filled += n;
            int end = buffer.AsSpan(searchFrom, filled - searchFrom).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                return Encoding.Latin1.GetString(buffer, 0, searchFrom + end);
            }
        }

        return null;
    }

    private byte[] Respond(string? head)
    {
        string requestLine = head is null ? "" : head.Split("\r\n", 2)[0];
        string[] parts = requestLine.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return Response(400, "Bad Request", "text/plain; charset=utf-8", "bad request\n", includeBody: true);
        }

        string method = parts[0];
        bool isHead = method == "HEAD";
        if (method != "GET" && !isHead)
        {
            return Response(405, "Method Not Allowed", "text/plain; charset=utf-8", "only GET and HEAD\n", includeBody: true, allow: true);
        }

        string path = parts[1].Split('?', 2)[0];
        switch (path)
        {
            case "/metrics":
                return Response(200, "OK", PrometheusText.ContentType, RenderMetrics(), !isHead);
            case "/healthz":
                return Response(200, "OK", "text/plain; charset=utf-8", "ok\n", !isHead);
            case "/readyz":
                string? reason = NotReadyReason();
                return reason is null
                    ? Response(200, "OK", "text/plain; charset=utf-8", "ready\n", !isHead)
                    : Response(503, "Service Unavailable", "text/plain; charset=utf-8", reason + "\n", !isHead);
            case "/":
                return Response(200, "OK", "text/plain; charset=utf-8", "tcptalk admin: /metrics /healthz /readyz\n", !isHead);
            default:
                return Response(404, "Not Found", "text/plain; charset=utf-8", "not found\n", !isHead);
        }
    }

    private string? NotReadyReason()
    {
        if (_options.Readiness is not { } readiness)
        {
            return null;
        }

        try
        {
            // One line, whatever the source returned.
            return readiness.NotReadyReason()?.ReplaceLineEndings(" ");
        }
#pragma warning disable CA1031 // a failing readiness source means "not ready", never a dead endpoint
        catch (Exception e)
#pragma warning restore CA1031
        {
            return "readiness check failed: " + e.Message.ReplaceLineEndings(" ");
        }
    }

    private static byte[] Response(int status, string reasonPhrase, string contentType, string body, bool includeBody, bool allow = false)
    {
        byte[] bodyBytes = Encoding.UTF8.GetBytes(body);
        string header = $"HTTP/1.1 {status} {reasonPhrase}\r\nContent-Type: {contentType}\r\nContent-Length: {bodyBytes.Length}\r\n"
            + (allow ? "Allow: GET, HEAD\r\n" : "") + "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
        byte[] headerBytes = Encoding.ASCII.GetBytes(header);
        if (!includeBody)
        {
            return headerBytes;
        }

        var all = new byte[headerBytes.Length + bodyBytes.Length];
        headerBytes.CopyTo(all, 0);
        bodyBytes.CopyTo(all, headerBytes.Length);
        return all;
    }

    /// <summary>Stops accepting, cancels the requests in flight (their connections close) and stops collecting metrics.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _state, 2) == 2)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        _metrics.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
