using System.Globalization;
using System.Text;
using TcpTalk.Messages;

namespace TcpTalk.Journal;

/// <summary>
/// The single-writer lock of a journal: an OS lock on the side file <c>&lt;journal&gt;.lock</c>, which also holds the
/// owner's pid as text so that a refused opener can name it. The OS releases the lock when the process dies, so a
/// crash never leaves a stale lock behind; the file itself is left in place (deleting it would race with openers).
/// </summary>
/// <remarks>
/// Where .NET supports byte-range locks (Linux, Windows) the lock is <see cref="FileStream.Lock"/> on one byte far
/// past the pid, and the file is opened shareable, so another process can still read the pid. POSIX range locks
/// belong to the process, not to the handle, so a second opener in the same process would not be refused by the OS
/// and closing its handle would even drop ours: a process-wide set of held paths refuses it first. Elsewhere (macOS)
/// the file is opened with <see cref="FileShare.None"/> (an exclusive flock), and the pid cannot be shown.
/// </remarks>
internal sealed class JournalLock : IDisposable
{
    private const long LockedByte = 1L << 30; // beyond any pid text, so Windows lets readers read the pid

    private static readonly HashSet<string> s_held = new(OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);

    private readonly FileStream _file;
    private readonly string _key;

    private JournalLock(FileStream file, string key)
    {
        _file = file;
        _key = key;
    }

    /// <summary>The lock file's path.</summary>
    public string LockPath => _file.Name;

    /// <summary>Takes the lock of the journal at full path <paramref name="journalPath"/>, or throws at once.</summary>
    /// <exception cref="JournalInUseException">Another writer holds it.</exception>
    /// <exception cref="JournalUnavailableException">The lock file cannot be created (permissions, missing folder).</exception>
    public static JournalLock Acquire(string journalPath)
    {
        string lockPath = journalPath + ".lock";
        lock (s_held)
        {
            if (!s_held.Add(journalPath))
            {
                throw new JournalInUseException(journalPath, Environment.ProcessId);
            }
        }

        try
        {
            return OperatingSystem.IsMacOS() || OperatingSystem.IsIOS() || OperatingSystem.IsTvOS() || OperatingSystem.IsMacCatalyst()
                ? AcquireExclusiveOpen(journalPath, lockPath)
                : AcquireRangeLock(journalPath, lockPath);
        }
        catch
        {
            lock (s_held)
            {
                s_held.Remove(journalPath);
            }

            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _file.Dispose(); // closing the handle releases the OS lock
        lock (s_held)
        {
            s_held.Remove(_key);
        }
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("macos")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("ios")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("tvos")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("maccatalyst")]
    private static JournalLock AcquireRangeLock(string journalPath, string lockPath)
    {
        var file = OpenLockFile(journalPath, lockPath, FileShare.ReadWrite);
        try
        {
            try
            {
                file.Lock(LockedByte, 1);
            }
            catch (IOException)
            {
                throw new JournalInUseException(journalPath, ReadPid(file));
            }

            WritePid(file);
            return new JournalLock(file, journalPath);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static JournalLock AcquireExclusiveOpen(string journalPath, string lockPath)
    {
        FileStream file;
        try
        {
            file = OpenLockFile(journalPath, lockPath, FileShare.None);
        }
        catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException)
                                     && e is not JournalUnavailableException)
        {
            throw new JournalInUseException(journalPath, processId: null);
        }

        try
        {
            WritePid(file);
            return new JournalLock(file, journalPath);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static FileStream OpenLockFile(string journalPath, string lockPath, FileShare share)
    {
        try
        {
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, share, bufferSize: 0);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or (IOException and not JournalUnavailableException))
        {
            string folder = Path.GetDirectoryName(lockPath) ?? ".";
            throw new JournalUnavailableException($"journal {journalPath} cannot be opened: its lock file {lockPath} cannot be created: {FileErrors.Describe(e, folder)}", e);
        }
    }

    private static int? ReadPid(FileStream file)
    {
        try
        {
            Span<byte> text = stackalloc byte[32];
            file.Position = 0;
            int length = file.Read(text);
            return int.TryParse(Encoding.ASCII.GetString(text[..length]).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                ? pid
                : null; // the owner is between taking the lock and writing its pid
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static void WritePid(FileStream file)
    {
        byte[] text = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        file.SetLength(0);
        file.Position = 0;
        file.Write(text);
        file.Flush();
    }
}
