namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>
/// The journal proofs (crash, disk full, I/O errors) drive servers under continuous load on 2 shared cores: they run
/// one after another and after the other tests, so their load does not skew timing-sensitive tests, nor theirs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class JournalProofsCollection
{
    public const string Name = "journal proofs";
}
