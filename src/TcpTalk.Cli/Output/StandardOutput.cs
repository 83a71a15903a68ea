using Microsoft.Win32.SafeHandles;

namespace TcpTalk.Cli.Output;

/// <summary>The process's stdout as a stream that a blocked write cannot turn into a blocked stderr.</summary>
internal static class StandardOutput
{
    /// <summary>
    /// Opens stdout for <see cref="MessageOutput"/>, unbuffered. On Unix it is file descriptor 1 itself: the runtime's
    /// console stream takes the lock of <see cref="Console.Out"/> around every write, and <see cref="Console.Error"/>
    /// (where the logs go) writes under the same lock, so a stdout pipe nobody reads would silence the logs too, the
    /// warning about skipped lines included. Elsewhere it is the console stream.
    /// </summary>
    public static Stream Open()
    {
        if (OperatingSystem.IsWindows())
        {
            return Console.OpenStandardOutput();
        }

        return new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
    }
}
