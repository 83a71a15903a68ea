using TcpTalk.Protocol;

namespace TcpTalk.Fuzz;

/// <summary>
/// How a target reads its configuration from the fuzzer's bytes: the first byte picks the framing and the limit, the
/// second seeds how the stream is cut into reads, the rest is the stream. Short inputs fall back to defaults, so
/// every byte string is a valid input.
/// </summary>
internal readonly ref struct FuzzInput
{
    /// <summary>The limits a framer is tried with: tiny ones hit the boundaries, the default is what servers run.</summary>
    private static readonly int[] s_limits = [1, 2, 3, 5, 8, 16, 128, MessageFramer.DefaultMaxMessageBytes];

    /// <summary>
    /// Reads the configuration. With <paramref name="countedFramings"/> a first byte of 0x40 to 0x9F picks a
    /// length-prefixed framing instead (octet, u16be, u32be by its high nibble); every other byte keeps its old meaning,
    /// so older seeds still mean what they meant.
    /// </summary>
    public FuzzInput(ReadOnlySpan<byte> data, bool countedFramings = false)
    {
        byte config = data.Length > 0 ? data[0] : (byte)0;
        int selector = config >> 4;
        Mode = countedFramings && selector is >= 4 and <= 9
            ? (FramingMode)((int)FramingMode.Octet + ((selector - 4) % 3))
            : (config & 1) == 0 ? FramingMode.Nul : FramingMode.Line;
        Limit = s_limits[(config >> 1) % s_limits.Length];
        CutSeed = data.Length > 1 ? data[1] : (byte)0;
        Stream = data.Length > 2 ? data[2..] : default;
        All = data;
    }

    public FramingMode Mode { get; }

    public int Limit { get; }

    /// <summary>0: the stream arrives in one read; otherwise seeds the sizes of the reads.</summary>
    public byte CutSeed { get; }

    public ReadOnlySpan<byte> Stream { get; }

    public ReadOnlySpan<byte> All { get; }

    /// <summary>A framer with this input's framing and limit.</summary>
    public MessageFramer CreateFramer() => new(Mode, Limit);

    /// <summary>What <see cref="ReferenceSplitter"/> finds in the stream.</summary>
    public Split Reference() => ReferenceSplitter.Split(Stream, Mode, Limit);

    /// <summary>The stream cut into reads of pseudo-random sizes (empty reads included), derived from <see cref="CutSeed"/>.</summary>
    public List<byte[]> Chunks()
    {
        var chunks = new List<byte[]>();
        if (CutSeed == 0)
        {
            chunks.Add(Stream.ToArray());
            return chunks;
        }

        uint state = CutSeed * 2654435761u;
        int at = 0;
        while (at < Stream.Length)
        {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            // Mostly short reads, so frames straddle reads; now and then an empty read or a large one.
            int size = (state % 8) switch
            {
                0 => 0,
                7 => (int)(state >> 8) % 300,
                _ => 1 + (int)(state >> 8) % 6,
            };
            // At most ~256 reads per input, so a long input cannot make the harness itself quadratic.
            size = Math.Min(size == 0 ? 0 : Math.Max(size, Stream.Length / 256), Stream.Length - at);
            chunks.Add(Stream.Slice(at, size).ToArray());
            at += size;
        }

        return chunks;
    }
}
