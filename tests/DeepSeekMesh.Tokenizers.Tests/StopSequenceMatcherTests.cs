namespace DeepSeekMesh.Tokenizers.Tests;

public class StopSequenceMatcherTests
{
    private static (string Emitted, bool Stopped, string? Stop) Run(StopSequenceMatcher m, params string[] deltas)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var d in deltas)
        {
            var r = m.Process(d);
            sb.Append(r.Text);
            if (r.Stopped)
            {
                return (sb.ToString(), true, r.StopSequence);
            }
        }
        sb.Append(m.Flush());
        return (sb.ToString(), false, null);
    }

    [Fact]
    public void StopInsideOneDelta()
    {
        var m = new StopSequenceMatcher(["END"]);
        Assert.Equal(("hello ", true, "END"), Run(m, "hello END and more"));
        Assert.True(m.IsStopped);
        Assert.Equal(new StopMatchResult("", true, "END"), m.Process("ignored"));
    }

    [Fact]
    public void StopSpanningDeltasIsCaught()
    {
        var m = new StopSequenceMatcher(["<|stop|>"]);
        Assert.Equal("abc", m.Process("abc<|").Text);
        Assert.Equal("<|", m.HeldText);
        Assert.Equal("", m.Process("st").Text);
        var r = m.Process("op|>tail");
        Assert.True(r.Stopped);
        Assert.Equal("", r.Text);
    }

    [Fact]
    public void StopSpanningManySingleCharDeltas()
    {
        var m = new StopSequenceMatcher(["\n\nUser:"]);
        var deltas = "Answer.\n\nUser: next".Select(c => c.ToString()).ToArray();
        Assert.Equal(("Answer.", true, "\n\nUser:"), Run(m, deltas));
    }

    [Fact]
    public void TextIsReleasedOnceItCannotBecomeAStop()
    {
        var m = new StopSequenceMatcher(["###"]);
        Assert.Equal("a", m.Process("a#").Text);
        Assert.Equal("#b", m.Process("b").Text); // "#b" can no longer start "###"
        Assert.Equal("", m.HeldText);
        Assert.Equal("c", m.Process("c##").Text);
        Assert.Equal("##", m.HeldText);
        Assert.Equal("##", m.Flush());
        Assert.False(m.IsStopped);
    }

    [Fact]
    public void FalseStartFollowedByRealStop()
    {
        var m = new StopSequenceMatcher(["abc"]);
        Assert.Equal(("xab", true, "abc"), Run(m, "xa", "b", "abc"));
    }

    [Fact]
    public void EarliestOfSeveralStopsWins()
    {
        var m = new StopSequenceMatcher(["world", "lo w"]);
        Assert.Equal(("hel", true, "lo w"), Run(m, "hel", "lo wor", "ld"));
    }

    [Fact]
    public void NoStopFlushesEverything()
    {
        var m = new StopSequenceMatcher(["STOP"]);
        Assert.Equal(("text ending with ST", false, null), Run(m, "text ending ", "with ST"));
    }

    [Fact]
    public void WorksWithStreamingDetokenizer()
    {
        var tok = RepoFiles.DeepSeek;
        var ids = tok.Encode("The answer is 42.\nObservation: done", addBos: false);
        var detok = new StreamingDetokenizer(tok);
        var m = new StopSequenceMatcher(["\nObservation:"]);
        var sb = new System.Text.StringBuilder();
        bool stopped = false;
        foreach (int id in ids)
        {
            var r = m.Process(detok.Push(id));
            sb.Append(r.Text);
            if (r.Stopped)
            {
                stopped = true;
                break;
            }
        }
        Assert.True(stopped);
        Assert.Equal("The answer is 42.", sb.ToString());
    }

    [Fact]
    public void RejectsEmptyStops()
    {
        Assert.Throws<ArgumentException>(() => new StopSequenceMatcher(["ok", ""]));
    }
}
