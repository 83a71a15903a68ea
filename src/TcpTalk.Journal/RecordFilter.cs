using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Unicode;
using Microsoft.Data.Sqlite;
using TcpTalk.Protocol;
using TcpTalk.Messages;

namespace TcpTalk.Journal;

/// <summary>
/// A <see cref="JournalQuery"/>'s filters in the forms the row readers need: times in microseconds, the network
/// normalised, the search text also as UTF-8 bytes (a byte search on valid UTF-8 finds exactly what a search of the
/// decoded text finds, without decoding).
/// </summary>
internal sealed class RecordFilter
{
    private const int Utf8CodePage = 65001;
    private static readonly ConcurrentDictionary<int, Encoding> s_encodings = new();
    private readonly byte[]? _containsUtf8;

    public RecordFilter(JournalQuery query)
    {
        SinceMicros = query.Since is { } since ? UnixMicros.From(since) : null;
        UntilMicros = query.Until is { } until ? UnixMicros.From(until) : null;
        Network = Normalize(query.From);
        ExactAddress = Network is { } n && n.PrefixLength == (n.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        Contains = query.Contains;
        _containsUtf8 = Contains is null ? null : Encoding.UTF8.GetBytes(Contains);
    }

    public long? SinceMicros { get; }

    public long? UntilMicros { get; }

    /// <summary>The client network, with IPv4-mapped networks as the IPv4 networks the server stores.</summary>
    public IPNetwork? Network { get; }

    /// <summary>Whether <see cref="Network"/> is one address, which SQL compares as text.</summary>
    public bool ExactAddress { get; }

    public string? Contains { get; }

    /// <summary>Appends the SQL conditions for time and exact address, with the column names given.</summary>
    public void AppendSql(StringBuilder sql, string receivedColumn, string clientColumn)
    {
        if (SinceMicros is not null)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND {receivedColumn} >= $since");
        }

        if (UntilMicros is not null)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND {receivedColumn} < $until");
        }

        if (ExactAddress)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND {clientColumn} = $from");
        }
    }

    /// <summary>Adds the parameters <see cref="AppendSql"/> refers to.</summary>
    public void AddParameters(SqliteCommand command)
    {
        if (SinceMicros is { } since)
        {
            command.Parameters.AddWithValue("$since", since);
        }

        if (UntilMicros is { } until)
        {
            command.Parameters.AddWithValue("$until", until);
        }

        if (ExactAddress)
        {
            command.Parameters.AddWithValue("$from", Network!.Value.BaseAddress.ToString());
        }
    }

    /// <summary>Whether a client address passes a network filter SQL could not apply.</summary>
    public bool MatchesNetwork(IPAddress client) => Network is not { } net || ExactAddress || net.Contains(client);

    /// <summary>Whether the message passes the text filter; decodes only when it must.</summary>
    public bool MatchesText(ReadOnlySpan<byte> raw, int codePage)
    {
        if (Contains is null)
        {
            return true;
        }

        if (codePage == Utf8CodePage && Utf8.IsValid(raw))
        {
            return raw.IndexOf(_containsUtf8) >= 0;
        }

        return Decode(raw, codePage).Contains(Contains, StringComparison.Ordinal);
    }

    /// <summary>The text of a stored message: decoded with its code page, invalid bytes replaced (U+FFFD).</summary>
    public static string Decode(ReadOnlySpan<byte> raw, int codePage)
    {
        var encoding = s_encodings.GetOrAdd(codePage, static page =>
        {
            var known = MessageText.TryGetEncoding(page.ToString(CultureInfo.InvariantCulture), out var e, out _) ? e : MessageText.Utf8;
            var lenient = (Encoding)known.Clone();
            lenient.DecoderFallback = new DecoderReplacementFallback("\uFFFD");
            return lenient;
        });
        return encoding.GetString(raw);
    }

    public static IPAddress ParseAddress(string text) => IPAddress.TryParse(text, out var address) ? address : IPAddress.None;

    private static IPNetwork? Normalize(IPNetwork? network)
    {
        if (network is not { } n || !n.BaseAddress.IsIPv4MappedToIPv6 || n.PrefixLength < 96)
        {
            return network;
        }

        return new IPNetwork(n.BaseAddress.MapToIPv4(), n.PrefixLength - 96);
    }
}
