using TcpTalk.Cli.Commands;

namespace TcpTalk.Cli.Tests;

public sealed class BoundedLineReaderTests
{
    private static async Task<List<string>> ReadAllAsync(string text, int maxChars)
    {
        var reader = new BoundedLineReader(new StringReader(text), maxChars);
        var lines = new List<string>();
        while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    [Theory]
    [InlineData("a\nb\n", new[] { "a", "b" })]
    [InlineData("a\r\nb\rc", new[] { "a", "b", "c" })]
    [InlineData("\n\nx", new[] { "", "", "x" })]
    [InlineData("", new string[0])]
    public async Task LinesEndAsTextReaderReadLineEndsThem(string text, string[] expected)
    {
        Assert.Equal(expected, await ReadAllAsync(text, 100));
    }

    [Fact]
    public async Task ACrLfSplitAcrossTwoChunksIsOneLineEnd()
    {
        string text = new string('a', 8191) + "\r\nb\n"; // the CR last in the first 8192-character chunk
        Assert.Equal([new string('a', 8191), "b"], await ReadAllAsync(text, 10_000));
    }

    [Fact]
    public async Task ALineOfExactlyTheLimitIsReadAndOneMoreCharacterIsTooLong()
    {
        Assert.Equal(["abcd"], await ReadAllAsync("abcd\n", 4));
        var reader = new BoundedLineReader(new StringReader("ok\nabcde\n"), 4);
        Assert.Equal("ok", await reader.ReadLineAsync(CancellationToken.None));
        await Assert.ThrowsAsync<LineTooLongException>(() => reader.ReadLineAsync(CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task AnEndlessLineIsRefusedAfterAtMostOneChunkPastTheLimit()
    {
        var reader = new BoundedLineReader(new EndlessReader(), 100_000);
        var error = await Assert.ThrowsAsync<LineTooLongException>(() => reader.ReadLineAsync(CancellationToken.None).AsTask());
        Assert.InRange(error.CharsRead, 100_001, 100_000 + 8192);
    }

    /// <summary>A stream of 'x' that never ends.</summary>
    private sealed class EndlessReader : TextReader
    {
        public override int Read(char[] buffer, int index, int count)
        {
            Array.Fill(buffer, 'x', index, count);
            return count;
        }
    }
}
