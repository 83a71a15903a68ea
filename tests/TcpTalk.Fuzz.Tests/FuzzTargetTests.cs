using System.Diagnostics;
using System.Text;
using TcpTalk.Protocol;

namespace TcpTalk.Fuzz.Tests;

/// <summary>
/// The short version of bench/fuzz.sh: every fuzz target's entry function over its seeds, over every input that once
/// crashed it (fuzz/regressions/), and over a few thousand random inputs from a fixed seed. A target throws only
/// when the code under test breaks one of its properties, so each of these fails on a bug.
/// </summary>
public class FuzzTargetTests
{
    private static readonly TimeSpan s_randomBudget = TimeSpan.FromSeconds(3);

    public static TheoryData<string> Targets => [.. FuzzTargets.All.Keys];

    [Theory]
    [MemberData(nameof(Targets))]
    public void EveryTargetPassesItsSeedCorpus(string target)
    {
        var seeds = Files("corpus", target);
        Assert.True(seeds.Length >= 3, $"fuzz/corpus/{target} has {seeds.Length} seeds");
        Replay(target, seeds);
    }

    [Fact]
    public void EverySavedCrashInputNowPasses()
    {
        var saved = FuzzTargets.All.Keys.SelectMany(target => Files("regressions", target).Select(file => (target, file))).ToArray();
        Assert.NotEmpty(saved);
        foreach (var group in saved.GroupBy(s => s.target))
        {
            Replay(group.Key, [.. group.Select(s => s.file)]);
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void EveryTargetHoldsOnRandomInputs(string target)
    {
        // Fixed seed, so a failure reproduces; at most 3000 inputs or the time budget, whichever ends first.
        var random = new Random(20261125);
        var run = FuzzTargets.All[target];
        var clock = Stopwatch.StartNew();
        int cases = 0;
        for (; cases < 3000 && clock.Elapsed < s_randomBudget; cases++)
        {
            byte[] input = RandomInput(random, target);
            try
            {
                run(input);
            }
            catch (Exception e)
            {
                Assert.Fail($"{target} case {cases}, input {Convert.ToHexString(input)}: {e}");
            }
        }

        Assert.True(cases >= 200, $"only {cases} {target} inputs ran within {s_randomBudget}");
    }

    [Fact]
    public void ReferenceSplitterFollowsTheDocumentedRules()
    {
        // The oracle the framer targets trust, checked by hand against docs/PROTOCOL.md's decisions.
        Assert.Equal("[6869, , 7468657265]", ReferenceSplitter.Split("hi\0\0there"u8, FramingMode.Nul, 5).ToString());
        Assert.Equal("[61, 620D, 63]", ReferenceSplitter.Split("a\r\nb\r\r\nc\r"u8, FramingMode.Line, 5).ToString());
        Assert.Equal("[61] then too long", ReferenceSplitter.Split("a\0bcdefg\0h\0"u8, FramingMode.Nul, 5).ToString());
        Assert.Equal("[6162636465]", ReferenceSplitter.Split("abcde\r\n"u8, FramingMode.Line, 5).ToString());
        Assert.Equal("[]", ReferenceSplitter.Split([], FramingMode.Line, 1).ToString());
    }

    [Fact]
    public void TextTargetEncodingsAreAllAccepted()
    {
        foreach (string name in FuzzTargets.TextEncodings)
        {
            Assert.True(MessageText.TryGetEncoding(name, out _, out string? error), $"{name}: {error}");
        }
    }

    private static string[] Files(string kind, string target)
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "fuzz", kind, target);
        return Directory.Exists(folder) ? Directory.GetFiles(folder) : [];
    }

    private static void Replay(string target, string[] files)
    {
        var run = FuzzTargets.All[target];
        var failures = new StringBuilder();
        foreach (string file in files)
        {
            try
            {
                run(File.ReadAllBytes(file));
            }
            catch (Exception e)
            {
                failures.AppendLine($"{target} {Path.GetFileName(file)}: {e.Message}");
            }
        }

        Assert.True(failures.Length == 0, failures.ToString());
    }

    /// <summary>Bytes shaped like the target's inputs, so that most reach past the first checks.</summary>
    private static byte[] RandomInput(Random random, string target)
    {
        int length = random.Next(0, random.Next(4) == 0 ? 400 : 60);
        var input = new byte[length];
        random.NextBytes(input);
        if (target is "framer" or "reply")
        {
            // Terminators, CRs and ASCII often enough that messages end and the small limits are both kept and broken.
            for (int i = 2; i < length; i++)
            {
                input[i] = random.Next(100) switch
                {
                    < 12 => 0,
                    < 24 => (byte)'\n',
                    < 32 => (byte)'\r',
                    < 60 => (byte)random.Next(0x20, 0x7F),
                    _ => input[i],
                };
            }

            if (target == "reply" && length >= 10 && random.Next(2) == 0)
            {
                byte[] reply = random.Next(2) == 0 ? "ack 12"u8.ToArray() : "error: x"u8.ToArray();
                reply.CopyTo(input, 2);
            }
        }
        else if (target == "proxy" && length >= 16 && random.Next(4) != 0)
        {
            // Past the signature most of the time, with a small v2 length or a v1 line, so the later checks are reached.
            if (random.Next(2) == 0)
            {
                "\r\n\r\n\0\r\nQUIT\n"u8.CopyTo(input);
                input[12] = (byte)(random.Next(8) == 0 ? input[12] : 0x20 | random.Next(2));
                input[14] = 0;
                input[15] = (byte)random.Next(length - 15);
            }
            else
            {
                "PROXY TCP4 "u8.CopyTo(input);
                const string alphabet = "0123456789.:abcdef \r\n";
                for (int i = 11; i < length; i++)
                {
                    input[i] = (byte)alphabet[random.Next(alphabet.Length)];
                }
            }
        }
        else if (target == "batchrow" && length >= 3)
        {
            // A small count and a short lengths field of small varints, so that some rows split cleanly.
            input[0] = (byte)random.Next(6);
            input[1] = 0;
            input[2] = (byte)random.Next(Math.Min(8, length - 2));
            for (int i = 3; i < 3 + input[2] && i < length; i++)
            {
                input[i] = (byte)random.Next(random.Next(8) == 0 ? 256 : 12);
            }
        }
        else if (target == "inputs")
        {
            const string alphabet = "[]:.%{}0123456789abcdefABCDEF:: localhost{address}{port}sha256:line nul";
            for (int i = 1; i < length; i++)
            {
                input[i] = random.Next(10) == 0 ? input[i] : (byte)alphabet[random.Next(alphabet.Length)];
            }
        }

        return input;
    }
}
