using Tina.Diffusion;
using Tina.PModels;

namespace Tina.Tests.Diffusion;

public class TaskMixingTests
{
    // Three 2-class p-Models of a ResNet-20 head laid out for 3 slots: every number encodes (entry, position).
    private static readonly ParameterLayout Layout = ParameterLayout.For(PModelArch.ResNet20, 3);
    private static readonly int[][] Classes = [[0, 1], [2, 3], [1, 4]];

    [Fact]
    public void UnmixedSamplesAreGatheredUnchanged()
    {
        var mixing = new TaskMixing(Layout, Classes);
        var (pi, si) = mixing.Indices([2, 0], [false, false], new Random(0));
        Assert.Equal(Enumerable.Range(0, Layout.Count).Select(j => 2L * Layout.Count + j), pi.Take(Layout.Count));
        Assert.Equal(Enumerable.Range(0, Layout.Count).Select(j => (long)j), pi.Skip(Layout.Count));
        Assert.Equal([6L, 7, 8, 0, 1, 2], si);
    }

    [Fact]
    public void MixedSampleTakesEachClassRowBiasAndTokenFromOneModelThatHasIt()
    {
        var mixing = new TaskMixing(Layout, Classes);
        Assert.Equal([0, 1, 2, 3, 4], mixing.Classes);
        var w = Layout["fc.weight"];
        var b = Layout["fc.bias"];
        int p = Layout.Count, f = 64;
        var rng = new Random(5);
        var seenClassSets = new HashSet<string>();
        for (int trial = 0; trial < 50; trial++)
        {
            var (pi, si) = mixing.Indices([1], [true], rng);
            var classesHere = new List<int>();
            for (int s = 0; s < 2; s++)
            {
                // The slot's token names (entry, slot) of a p-Model, and that p-Model's row and bias sit in slot s.
                long token = si[s];
                int entry = (int)(token / 3), slot = (int)(token % 3);
                Assert.InRange(slot, 0, 1);
                classesHere.Add(Classes[entry][slot]);
                for (int k = 0; k < f; k++) Assert.Equal((long)entry * p + w.Offset + slot * f + k, pi[w.Offset + s * f + k]);
                Assert.Equal((long)entry * p + b.Offset + slot, pi[b.Offset + s]);
            }
            Assert.NotEqual(classesHere[0], classesHere[1]);
            seenClassSets.Add(string.Join(",", classesHere.Order()));
            // The padding slot and its (zero) row stay the drawn p-Model's own.
            Assert.Equal(1L * 3 + 2, si[2]);
            Assert.Equal(1L * p + w.Offset + 2 * f, pi[w.Offset + 2 * f]);
        }
        // Mixing makes class pairs that no p-Model of the zoo has.
        Assert.Contains(seenClassSets, set => set is not ("0,1" or "2,3" or "1,4"));
    }

    [Fact]
    public void SameSeedGivesTheSameMix()
    {
        var mixing = new TaskMixing(Layout, Classes);
        var a = mixing.Indices([0, 1, 2], [true, false, true], new Random(9));
        var b = mixing.Indices([0, 1, 2], [true, false, true], new Random(9));
        Assert.Equal(a.ParameterIndex, b.ParameterIndex);
        Assert.Equal(a.SlotIndex, b.SlotIndex);
    }

    [Fact]
    public void RejectsBadShapes()
    {
        Assert.Throws<ArgumentException>(() => new TaskMixing(ParameterLayout.For(PModelArch.ResNet20, 2), [[0, 1, 2]]));
        Assert.Throws<ArgumentException>(() => new TaskMixing(Layout, Classes).Indices([0, 1], [true], new Random(0)));
    }

    [Fact]
    public void AMixedSampleKeepsTheClassCountOfItsPModel()
    {
        // p-Model 1 has one class: mixing it replaces slot 0 only; slots 1 and 2 (padding) stay its own.
        var mixing = new TaskMixing(Layout, [[0, 1], [2], [1, 0, 2]]);
        int p = Layout.Count, f = 64;
        var w = Layout["fc.weight"];
        for (int seed = 0; seed < 20; seed++)
        {
            var (pi, si) = mixing.Indices([1], [true], new Random(seed));
            Assert.Equal([4L, 5], si[1..]);
            for (int j = w.Offset + f; j < w.Offset + 3 * f; j++) Assert.Equal(p + j, pi[j]);
        }
        Assert.Throws<ArgumentException>(() => new TaskMixing(Layout, [[0, 1, 2, 3]]));
    }
}
