using System.Diagnostics;

namespace TcpTalk.Protocol.Tests;

public class MessageFramerPropertyTests
{
    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(2);

    private static readonly FramingMode[] s_modes = [FramingMode.Nul, FramingMode.Line, FramingMode.Octet, FramingMode.U16BE, FramingMode.U32BE];

    [Theory]
    [InlineData(20240601)]
    [InlineData(7)]
    [InlineData(1234567)]
    [InlineData(424242)]
    public void RandomStreamsCutAtRandomPlacesReassembleLikeTheReferenceSplitter(int seed)
    {
        // Fixed seeds so a failure reproduces; each seed gets a quarter of the ~2 s budget and stops early when out of time.
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        int cases = 0;
        int tooLong = 0;
        int messages = 0;
        for (; cases < 3000 && clock.Elapsed < s_budget / 4; cases++)
        {
            var mode = s_modes[random.Next(s_modes.Length)];
            int limit = random.Next(8) switch
            {
                0 => random.Next(1, 4),
                1 => MessageFramer.DefaultMaxMessageBytes,
                _ => random.Next(1, 24),
            };
            int length = random.Next(8) == 0 ? random.Next(0, 400) : random.Next(0, 80);
            byte[] input = random.Next(4) == 0 ? UniformBytes(random, length)
                : mode.IsLengthPrefixed() ? CountedInput(random, mode, limit, length)
                : RandomInput(random, mode, length);
            int[] cuts = Enumerable.Range(0, random.Next(0, 6)).Select(_ => random.Next(0, input.Length + 1)).Order().ToArray();
            var chunks = FramerHarness.Cut(input, cuts);
            var expected = FramerHarness.Reference(input, mode, limit);
            var framer = new MessageFramer(mode, limit);

            TcpTalk.Fuzz.Split spans, sequences;
            try
            {
                spans = FramerHarness.FeedSpans(framer, chunks);
                sequences = FramerHarness.FeedSequences(framer, chunks, withEmptySegments: random.Next(4) == 0);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"seed {seed} case {cases}: {mode} limit {limit} input {Convert.ToHexString(input)} cuts [{string.Join(",", cuts)}] threw {e}");
                throw;
            }

            string context = $"seed {seed} case {cases}: {mode} limit {limit} input {Convert.ToHexString(input)} cuts [{string.Join(",", cuts)}]: expected {expected}";
            Assert.True(expected.SameAs(spans), $"{context}, span reader got {spans}");
            Assert.True(expected.SameAs(sequences), $"{context}, sequence reader got {sequences}");
            tooLong += expected.TooLong ? 1 : 0;
            messages += expected.Messages.Count;
        }

        // The generator must exercise both outcomes, or the property says little.
        Assert.True(cases >= 50, $"only {cases} cases ran within the budget");
        Assert.InRange(tooLong, 1, cases - 1);
        Assert.True(messages > cases, $"{messages} messages in {cases} cases");
    }

    [Fact]
    public void EveryCountedFramingSeesEveryEndingInRandomStreams()
    {
        // The counted generator must produce clean streams, too-long and malformed ones for each framing.
        var random = new Random(99);
        foreach (var mode in s_modes.Where(m => m.IsLengthPrefixed()))
        {
            var endings = new HashSet<string>();
            for (int i = 0; i < 400; i++)
            {
                int limit = random.Next(1, 24);
                byte[] input = CountedInput(random, mode, limit, random.Next(0, 80));
                var expected = FramerHarness.Reference(input, mode, limit);
                var actual = FramerHarness.FeedSpans(new MessageFramer(mode, limit), FramerHarness.Cut(input, random.Next(0, input.Length + 1)));
                Assert.True(expected.SameAs(actual), $"{mode} limit {limit} input {Convert.ToHexString(input)}: expected {expected}, got {actual}");
                endings.Add(expected.TooLong ? "too long" : expected.Malformed ? "malformed" : "clean");
            }

            Assert.Equal(3, endings.Count);
        }
    }

    private static byte[] CountedInput(Random random, FramingMode mode, int limit, int length)
    {
        // Mostly well-formed frames (some at or just over the limit), now and then a corrupted byte or a cut-off end.
        var input = new List<byte>();
        while (input.Count < length)
        {
            int size = random.Next(6) == 0 ? limit + random.Next(0, 2) : random.Next(mode == FramingMode.Octet ? 1 : 0, Math.Min(limit, 12) + 1);
            switch (mode)
            {
                case FramingMode.Octet:
                    input.AddRange(System.Text.Encoding.ASCII.GetBytes($"{size} "));
                    break;
                case FramingMode.U16BE:
                    input.Add((byte)(size >> 8));
                    input.Add((byte)size);
                    break;
                default:
                    input.AddRange([0, 0, (byte)(size >> 8), (byte)size]);
                    break;
            }

            for (int i = 0; i < size; i++)
            {
                input.Add((byte)random.Next(256));
            }
        }

        if (input.Count > 0 && random.Next(5) == 0)
        {
            input[random.Next(input.Count)] = (byte)random.Next(256);
        }

        if (input.Count > 0 && random.Next(5) == 0)
        {
            input.RemoveRange(input.Count - 1 - random.Next(Math.Min(3, input.Count)), 1);
        }

        return [.. input];
    }

    private static byte[] UniformBytes(Random random, int length)
    {
        // Plain random bytes too, not only the shaped mix below: terminators then come about once in 256.
        var input = new byte[length];
        random.NextBytes(input);
        return input;
    }

    private static byte[] RandomInput(Random random, FramingMode mode, int length)
    {
        byte terminator = mode == FramingMode.Nul ? (byte)0 : (byte)'\n';
        byte other = mode == FramingMode.Nul ? (byte)'\n' : (byte)0;
        var input = new byte[length];
        for (int i = 0; i < length; i++)
        {
            int roll = random.Next(100);
            input[i] = roll switch
            {
                < 18 => terminator,
                < 30 => (byte)'\r',
                < 36 => other,
                < 50 => (byte)random.Next(0x80, 0x100),
                _ => (byte)random.Next('a', 'z' + 1),
            };
        }

        return input;
    }
}
