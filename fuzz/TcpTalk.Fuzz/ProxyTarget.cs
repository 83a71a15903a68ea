using System.Buffers;
using TcpTalk.Protocol;

namespace TcpTalk.Fuzz;

/// <summary>What <see cref="ProxyHeaderParser"/> made of some bytes: a header, a refusal, or "need more bytes".</summary>
/// <param name="Header">The header's full description (<see cref="Describe"/>), or null.</param>
/// <param name="Error">The refusal's reason, or null.</param>
/// <param name="Consumed">How many bytes a header took (0 otherwise).</param>
public readonly record struct ProxyOutcome(string? Header, ProxyHeaderError? Error, int Consumed)
{
    /// <summary>Neither a header nor a refusal: the parser waits for more bytes.</summary>
    public bool NeedsMore => Header is null && Error is null;

    /// <summary>Everything a header says, unique id in full, so two outcomes compare equal only when the headers are.</summary>
    public static string Describe(ProxyHeader header) =>
        $"{header} family {header.Family} transport {header.Transport} id {(header.UniqueId is { } id ? Convert.ToHexString(id) : "none")}";

    public override string ToString() => Header ?? (Error is { } error ? ProxyHeaderErrors.Name(error) : "need more");
}

/// <summary>
/// Fuzzes <see cref="ProxyHeaderParser"/>: the input is the start of a connection. The outcome over the whole input
/// must be the outcome over every way of receiving it: each prefix must either still need more bytes or already give
/// exactly that outcome (every prefix up to the first that decides, then a sample), and the sequence reader over two or three segments (an empty one included) must agree with
/// the span reader. A header consumes at most the input and its own bounds (107 bytes for v1, MaxHeaderBytes for
/// v2), leaves every byte after it in the buffer untouched, and names a client only with a consistent family;
/// a refusal is a <see cref="ProxyHeaderException"/> with a defined reason and a one-line message. Any other
/// exception escapes and is a crash. Used by the unit tests too (tests/TcpTalk.Protocol.Tests/ProxyHeader*Tests.cs).
/// </summary>
public static class ProxyTarget
{
    /// <summary>Once a prefix has decided, only every this many longer prefixes are tried (they must all agree).</summary>
    private const int StrideAfterDecision = 17;

    public static void Run(byte[] data) => CheckEveryCut(data);

    /// <summary>Checks every property above over <paramref name="data"/> and returns the whole input's outcome.</summary>
    public static ProxyOutcome CheckEveryCut(byte[] data)
    {
        var parser = ProxyHeaderParser.Default;
        var whole = ParseSpan(parser, data, data);
        Check(ParseSequence(parser, [data], data), whole, "single-segment sequence", data);
        int decidedAt = -1;
        for (int cut = 0; cut <= data.Length; cut++)
        {
            // Every prefix up to the one that decides, then a sample: past it the outcome can no longer change.
            if (decidedAt >= 0 && cut - decidedAt > 3 && cut % StrideAfterDecision != 0 && cut != data.Length)
            {
                continue;
            }

            var prefix = ParseSpan(parser, data.AsSpan(0, cut), data);
            if (decidedAt < 0 && !prefix.NeedsMore)
            {
                decidedAt = cut;
            }

            InvariantViolationException.Check(!prefix.NeedsMore || decidedAt < 0,
                $"the first {decidedAt} bytes gave {ParseSpan(parser, data.AsSpan(0, Math.Max(decidedAt, 0)), data)}, the first {cut} need more", data);
            InvariantViolationException.Check(prefix.NeedsMore || prefix == whole,
                $"the first {cut} bytes gave {prefix}, the whole input {whole}", data);
            if (cut < data.Length)
            {
                // The same prefix arriving in two reads, and the whole input in two or three segments.
                Check(ParseSequence(parser, [data[..(cut / 2)], data[(cut / 2)..cut]], data), prefix, $"prefix {cut} in two segments", data);
                byte[][] parts = (cut & 1) == 0 ? [data[..cut], data[cut..]] : [data[..cut], [], data[cut..]];
                Check(ParseSequence(parser, parts, data), whole, $"cut at {cut}", data);
            }
        }

        return whole;
    }

    /// <summary>The span reader's outcome, with the properties of a header or a refusal checked.</summary>
    public static ProxyOutcome ParseSpan(ProxyHeaderParser parser, ReadOnlySpan<byte> buffer, byte[] data)
    {
        try
        {
            if (!parser.TryParse(buffer, out var header))
            {
                InvariantViolationException.Check(header is null, "TryParse returned false with a header", data);
                return default;
            }

            CheckHeader(parser, header, buffer, data);
            return new ProxyOutcome(ProxyOutcome.Describe(header), null, header.Length);
        }
        catch (ProxyHeaderException e)
        {
            CheckRefusal(e, data);
            return new ProxyOutcome(null, e.Reason, 0);
        }
    }

    /// <summary>The sequence reader's outcome over <paramref name="parts"/> as segments; checks what it leaves in the buffer.</summary>
    public static ProxyOutcome ParseSequence(ProxyHeaderParser parser, byte[][] parts, byte[] data)
    {
        var buffer = ChainedSegment.Sequence([.. parts.Select(p => (ReadOnlyMemory<byte>)p)]);
        byte[] all = buffer.ToArray();
        var before = buffer;
        try
        {
            if (!parser.TryParse(ref buffer, out var header))
            {
                InvariantViolationException.Check(Unmoved(buffer, before), "TryParse(ref sequence) moved the buffer and returned false", data);
                return default;
            }

            CheckHeader(parser, header, all, data);
            InvariantViolationException.Check(buffer.ToArray().AsSpan().SequenceEqual(all.AsSpan(header.Length)),
                $"after a {header.Length}-byte header the buffer holds {buffer.Length} bytes that are not the {all.Length - header.Length} after it", data);
            return new ProxyOutcome(ProxyOutcome.Describe(header), null, header.Length);
        }
        catch (ProxyHeaderException e)
        {
            InvariantViolationException.Check(Unmoved(buffer, before), "TryParse(ref sequence) moved the buffer and threw", data);
            CheckRefusal(e, data);
            return new ProxyOutcome(null, e.Reason, 0);
        }
    }

    private static void CheckHeader(ProxyHeaderParser parser, ProxyHeader header, ReadOnlySpan<byte> buffer, byte[] data)
    {
        bool v1 = buffer.StartsWith("PROXY "u8);
        InvariantViolationException.Check(header.Length >= 15 && header.Length <= buffer.Length
            && header.Length <= (v1 ? ProxyHeaderParser.V1MaxLineBytes : parser.MaxHeaderBytes),
            $"a header of {header.Length} bytes from {buffer.Length}", data);
        InvariantViolationException.Check(header.Version == (v1 ? 1 : 2) && (v1 || buffer.StartsWith(ProxyHeaderParser.V2Signature)),
            $"a v{header.Version} header from bytes that start as v{(v1 ? 1 : 2)}", data);
        InvariantViolationException.Check(!v1 || buffer[..header.Length].EndsWith("\r\n"u8), "a v1 header that does not end with CRLF", data);
        if (header.Source is { } source)
        {
            var family = source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
                ? ProxyAddressFamily.InterNetwork : ProxyAddressFamily.InterNetworkV6;
            InvariantViolationException.Check(header.Command == ProxyCommand.Proxy && header.Family == family
                && header.Destination?.AddressFamily == source.AddressFamily && header.Transport != ProxyTransport.Unspecified,
                $"header {header} names a client inconsistently", data);
        }
        else
        {
            InvariantViolationException.Check(header.Destination is null && header.UsesRealEndpoints, $"header {header} has a destination but no source", data);
        }

        InvariantViolationException.Check(header.UniqueId is null || (header.Version == 2 && header.UniqueId.Length <= ProxyHeaderParser.MaxUniqueIdBytes),
            $"header {header} has a unique id of {header.UniqueId?.Length} bytes", data);
    }

    private static void CheckRefusal(ProxyHeaderException e, byte[] data) =>
        InvariantViolationException.Check(Enum.IsDefined(e.Reason) && ProxyHeaderErrors.Name(e.Reason) != "unknown"
            && e.Message.StartsWith("PROXY header: ", StringComparison.Ordinal) && !e.Message.Contains('\n', StringComparison.Ordinal)
            && e.Message.Length <= 200 + 4 * ProtocolException.MaxQuotedBytes,
            $"refusal {e.Reason} with message \"{e.Message}\"", data);

    private static void Check(ProxyOutcome actual, ProxyOutcome expected, string how, byte[] data) =>
        InvariantViolationException.Check(actual == expected, $"{how}: {actual}, but the whole input in one span: {expected}", data);

    private static bool Unmoved(ReadOnlySequence<byte> buffer, ReadOnlySequence<byte> before) =>
        buffer.Start.Equals(before.Start) && buffer.End.Equals(before.End);
}
