using System.Net;
using System.Net.Sockets;
using TcpTalk.Protocol;

namespace TcpTalk.Client;

/// <summary>
/// Connects to the first address that answers, racing IPv6 and IPv4 (RFC 8305): addresses are interleaved by family,
/// IPv6 first; a new attempt starts when the previous one fails or after <see cref="TalkClientOptions.AttemptDelay"/>,
/// whichever is sooner; the first connection wins and the others are cancelled.
/// </summary>
internal static class HappyEyeballs
{
    public static async Task<Socket> ConnectAsync(IReadOnlyList<IPAddress> addresses, int port, TalkClientOptions options, CancellationToken cancellationToken)
    {
        var order = Interleave(addresses);
        var time = options.TimeProvider;
        using var all = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = new List<Task<Socket>>();
        var failures = new List<(IPAddress Address, SocketException Error)>();
        int next = 0;
        Task? delay = null;
        try
        {
            while (true)
            {
                // delay is null after a failure: the next attempt starts at once, even while others still run.
                if (next < order.Count && (running.Count == 0 || delay is null or { IsCompleted: true }))
                {
                    running.Add(AttemptAsync(order[next++], port, options, failures, all.Token));
                    delay = next < order.Count ? Task.Delay(options.AttemptDelay, time, all.Token) : null;
                }

                if (running.Count == 0)
                {
                    throw Failure(failures, port);
                }

                var waitFor = new List<Task>(running);
                if (delay is not null)
                {
                    waitFor.Add(delay);
                }

                var done = await Task.WhenAny(waitFor).ConfigureAwait(false);
                if (done == delay)
                {
                    continue;
                }

                var attempt = (Task<Socket>)done;
                running.Remove(attempt);
                if (attempt.IsCompletedSuccessfully)
                {
                    return attempt.Result;
                }

                _ = attempt.Exception; // observed: its failure is in 'failures'
                cancellationToken.ThrowIfCancellationRequested();
                delay = null; // a failure starts the next attempt at once
            }
        }
        finally
        {
            await all.CancelAsync().ConfigureAwait(false);
            foreach (var loser in running)
            {
                // Attempts still running lost the race; close any that connected anyway.
                try
                {
                    (await loser.ConfigureAwait(false)).Dispose();
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                }
            }
        }
    }

    /// <summary>IPv6 and IPv4 alternating, IPv6 first (RFC 8305 section 4), order within a family kept.</summary>
    public static List<IPAddress> Interleave(IReadOnlyList<IPAddress> addresses)
    {
        var v6 = new Queue<IPAddress>(addresses.Where(a => a.AddressFamily == AddressFamily.InterNetworkV6));
        var v4 = new Queue<IPAddress>(addresses.Where(a => a.AddressFamily != AddressFamily.InterNetworkV6));
        var result = new List<IPAddress>(addresses.Count);
        while (v6.Count > 0 || v4.Count > 0)
        {
            if (v6.TryDequeue(out var a))
            {
                result.Add(a);
            }

            if (v4.TryDequeue(out var b))
            {
                result.Add(b);
            }
        }

        return result;
    }

    private static async Task<Socket> AttemptAsync(IPAddress address, int port, TalkClientOptions options,
        List<(IPAddress, SocketException)> failures, CancellationToken cancellationToken)
    {
        string endpoint = ClientAddress.FormatEndpoint(address, port);
        long started = options.TimeProvider.GetTimestamp();
        options.OnAttempt?.Invoke(new ConnectAttempt(endpoint, null, TimeSpan.Zero));
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken).ConfigureAwait(false);
            options.OnAttempt?.Invoke(new ConnectAttempt(endpoint, "connected", options.TimeProvider.GetElapsedTime(started)));
            return socket;
        }
        catch (Exception e)
        {
            socket.Dispose();
            string outcome = e switch
            {
                SocketException se => Describe(se.SocketErrorCode),
                OperationCanceledException => "cancelled",
                _ => e.Message,
            };
            options.OnAttempt?.Invoke(new ConnectAttempt(endpoint, outcome, options.TimeProvider.GetElapsedTime(started)));
            if (e is SocketException socketError)
            {
                lock (failures)
                {
                    failures.Add((address, socketError));
                }
            }

            throw;
        }
    }

    private static ConnectFailedException Failure(List<(IPAddress Address, SocketException Error)> failures, int port)
    {
        var (_, last) = failures[^1];
        var endpoints = failures.Select(f => ClientAddress.FormatEndpoint(f.Address, port)).ToList();
        if (failures.All(f => f.Error.SocketErrorCode == SocketError.ConnectionRefused))
        {
            // Each outcome is the same: name it once. "and" between the last two, so "by A and B", "by A, B and C".
            string by = endpoints.Count == 1 ? endpoints[0] : $"{string.Join(", ", endpoints[..^1])} and {endpoints[^1]}";
            return new ConnectFailedException($"connection refused by {by} (nothing listening on that port?)", last.SocketErrorCode, last);
        }

        string tried = string.Join(", ", failures.Select((f, i) => $"{endpoints[i]} {Describe(f.Error.SocketErrorCode)}"));
        return new ConnectFailedException($"could not connect: {tried}", last.SocketErrorCode, last);
    }

    internal static string Describe(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "refused",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.TimedOut => "timed out",
        SocketError.AddressNotAvailable => "address not available",
        SocketError.AddressFamilyNotSupported => "address family not supported",
        SocketError.AccessDenied => "access denied",
        _ => error.ToString(),
    };
}
