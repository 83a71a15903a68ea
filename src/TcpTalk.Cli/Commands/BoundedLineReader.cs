namespace TcpTalk.Cli.Commands;

/// <summary>
/// Reads lines (ended by LF, CR LF or CR, as <see cref="TextReader.ReadLine"/>) holding at most a given number of
/// characters of one line in memory: a longer line is reported as too long once that many are read, without reading
/// the rest of it. Used by <c>send --spool</c>, whose stdin may be a stream with no newline at all.
/// </summary>
internal sealed class BoundedLineReader
{
    private const int ChunkChars = 8192;

    private readonly TextReader _input;
    private readonly int _maxChars;
    private readonly char[] _chunk = new char[ChunkChars];
    private int _start;
    private int _end;
    private bool _skipLineFeed; // the last line ended with CR at the end of a chunk: a LF first in the next one is its CR LF
    private bool _ended;

    /// <summary>Reads <paramref name="input"/>; a line of more than <paramref name="maxChars"/> characters is too long.</summary>
    public BoundedLineReader(TextReader input, int maxChars)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxChars);
        _input = input;
        _maxChars = maxChars;
    }

    /// <summary>
    /// The next line, or null at the end of the input; throws <see cref="LineTooLongException"/> once more than the
    /// limit of characters of one line are read (at most one chunk past it is read).
    /// </summary>
    public async ValueTask<string?> ReadLineAsync(CancellationToken cancel)
    {
        var line = new System.Text.StringBuilder();
        bool started = false; // a last line without a newline is still a line
        while (true)
        {
            if (_start == _end)
            {
                if (_ended || !await FillAsync(cancel).ConfigureAwait(false))
                {
                    return started ? line.ToString() : null;
                }
            }

            if (_skipLineFeed)
            {
                _skipLineFeed = false;
                if (_chunk[_start] == '\n')
                {
                    _start++;
                    continue;
                }
            }

            int stop = Array.FindIndex(_chunk, _start, _end - _start, c => c is '\n' or '\r');
            int take = (stop < 0 ? _end : stop) - _start;
            if (line.Length + take > _maxChars)
            {
                throw new LineTooLongException(line.Length + take);
            }

            line.Append(_chunk, _start, take);
            _start += take;
            started |= take > 0;
            if (stop >= 0)
            {
                _start++;
                if (_chunk[stop] == '\r')
                {
                    _skipLineFeed = true;
                }

                return line.ToString();
            }
        }
    }

    private async ValueTask<bool> FillAsync(CancellationToken cancel)
    {
        int read = await _input.ReadAsync(_chunk.AsMemory(), cancel).ConfigureAwait(false);
        _start = 0;
        _end = read;
        _ended = read == 0;
        return read > 0;
    }
}
