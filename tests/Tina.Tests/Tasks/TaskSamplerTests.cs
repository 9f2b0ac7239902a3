using Tina.MLNet.Errors;
using Tina.Tasks;

namespace Tina.Tests.Tasks;

public class TaskSamplerTests
{
    [Fact]
    public void Cifar100MixIsBalancedDeterministicAndDisjoint()
    {
        var d = Fixtures.Cifar;
        var (train, ood) = new TaskSampler(d, 10, seed: 1).Split(300, 60);
        var (train2, ood2) = new TaskSampler(d, 10, seed: 1).Split(300, 60);
        Assert.Equal(train.Select(t => t.Task.Prompt), train2.Select(t => t.Task.Prompt));
        Assert.Equal(ood.Select(t => t.Task.Prompt), ood2.Select(t => t.Task.Prompt));

        // Disjoint as sets: no OOD task has the class set of a training task, and no duplicates anywhere.
        var sets = train.Concat(ood).Select(t => string.Join(",", t.Task.Classes.Order())).ToList();
        Assert.Equal(sets.Count, sets.Distinct().Count());

        // 3:2:1 kinds.
        Assert.Equal(150, train.Count(t => t.Kind == TaskKind.DistinctSuperclasses));
        Assert.Equal(100, train.Count(t => t.Kind == TaskKind.SharedSuperclass));
        Assert.Equal(50, train.Count(t => t.Kind == TaskKind.TwoSuperclasses));

        // Kinds mean what they say.
        var sup = d.ClassToSuperclass!;
        foreach (var t in train)
        {
            var supers = t.Task.Classes.Select(c => sup[c]).ToList();
            int distinct = supers.Distinct().Count();
            switch (t.Kind)
            {
                case TaskKind.DistinctSuperclasses: Assert.Equal(10, distinct); break;
                case TaskKind.TwoSuperclasses: Assert.Equal(2, distinct); break;
                case TaskKind.SharedSuperclass: Assert.InRange(supers.GroupBy(s => s).Max(g => g.Count()), 2, 5); break;
            }
        }

        // Balanced: 300 tasks × 10 classes = 30 uses per class on average.
        var counts = new int[100];
        foreach (var t in train) foreach (var c in t.Task.Classes) counts[c]++;
        Assert.True(counts.Max() - counts.Min() <= 6, $"class uses range {counts.Min()}..{counts.Max()}");
    }

    [Fact]
    public void TwoSuperclassSetsRunningOutFallsBackInsteadOfFailing()
    {
        // 1,150 tasks need ~192 two-superclass tasks but CIFAR-100 has only 190 such sets.
        var tasks = new TaskSampler(Fixtures.Cifar, 10, seed: 2).Draw(1150);
        Assert.Equal(1150, tasks.Select(t => string.Join(",", t.Task.Classes.Order())).Distinct().Count());
    }

    [Fact]
    public void ARangeOfClassCountsIsDrawnEvenlyWithThePaperKinds()
    {
        var d = Fixtures.Cifar;
        var (train, ood) = new TaskSampler(d, minClasses: 2, maxClasses: 10, seed: 4).Split(180, 36);
        // Shuffled blocks of every count once: each count exactly 180 / 9 = 20 times, and 4 times among the OOD tasks.
        Assert.All(Enumerable.Range(2, 9), k => Assert.Equal(20, train.Count(t => t.Task.Count == k)));
        Assert.All(Enumerable.Range(2, 9), k => Assert.Equal(4, ood.Count(t => t.Task.Count == k)));
        var sets = train.Concat(ood).Select(t => string.Join(",", t.Task.Classes.Order())).ToList();
        Assert.Equal(sets.Count, sets.Distinct().Count());
        Assert.All(train, t => Assert.Equal(t.Task.Count, t.Task.Classes.Distinct().Count()));
        var sup = d.ClassToSuperclass!;
        foreach (var t in train.Where(t => t.Kind == TaskKind.DistinctSuperclasses))
            Assert.Equal(t.Task.Count, t.Task.Classes.Select(c => sup[c]).Distinct().Count());
        foreach (var t in train.Where(t => t.Kind == TaskKind.TwoSuperclasses))
            Assert.InRange(t.Task.Classes.Select(c => sup[c]).Distinct().Count(), 1, 2);
        Assert.Contains(train, t => t.Kind == TaskKind.SharedSuperclass && t.Task.Count == 2);
        // Same seed, same tasks.
        var again = new TaskSampler(d, minClasses: 2, maxClasses: 10, seed: 4).Split(180, 36);
        Assert.Equal(train.Select(t => t.Task.Prompt), again.Train.Select(t => t.Task.Prompt));
    }

    [Fact]
    public void ABadClassRangeIsRefused()
    {
        Assert.Throws<TinaException>(() => new TaskSampler(Fixtures.Cifar, minClasses: 1, maxClasses: 5, seed: 0));
        Assert.Throws<TinaException>(() => new TaskSampler(Fixtures.Cifar, minClasses: 6, maxClasses: 5, seed: 0));
    }
    [Fact]
    public void HeldOutClassesAreSeededSpreadOverSuperclassesAndNeverInAPooledTask()
    {
        var d = Fixtures.Cifar;
        var held = TaskSampler.HeldOutClasses(d, 0.5, seed: 4);
        Assert.Equal(50, held.Length);
        Assert.Equal(held, TaskSampler.HeldOutClasses(d, 0.5, seed: 4));
        Assert.NotEqual(held, TaskSampler.HeldOutClasses(d, 0.5, seed: 5));
        // Every superclass (5 classes) gives up 2 or 3, so each held-out class keeps seen siblings.
        foreach (var g in held.GroupBy(c => d.ClassToSuperclass![c])) Assert.InRange(g.Count(), 2, 3);
        Assert.Equal(20, held.Select(c => d.ClassToSuperclass![c]).Distinct().Count());

        var seen = Enumerable.Range(0, 100).Except(held).ToArray();
        var sampler = new TaskSampler(d, 2, 10, seed: 4, pool: seen);
        var train = sampler.Draw(400);
        Assert.All(train, t => Assert.DoesNotContain(t.Task.Classes, c => held.Contains(c)));
        Assert.All(train, t => Assert.Equal(t.Task.Classes.Length, t.Task.Classes.Distinct().Count()));
        Assert.Equal(Enumerable.Range(2, 9), train.Select(t => t.Task.Count).Distinct().Order());
        // The paper's kinds survive the restriction (two-superclass tasks of 10 need 5 seen classes in a superclass, so fall back).
        Assert.Contains(train, t => t.Kind == TaskKind.SharedSuperclass);

        foreach (var ratio in new[] { 0.0, 0.2, 0.5, 1.0 })
        {
            var ood = sampler.DrawWithUnseen(40, held, ratio);
            foreach (var t in ood)
            {
                int unseen = t.Task.Classes.Count(c => held.Contains(c));
                Assert.Equal(TaskSampler.UnseenCount(t.Task.Count, ratio), unseen);
                if (ratio == 0) Assert.Equal(0, unseen);
                if (ratio == 1) Assert.Equal(t.Task.Count, unseen);
            }
        }
        Assert.Equal(1, TaskSampler.UnseenCount(2, 0.2));
        Assert.Equal(5, TaskSampler.UnseenCount(10, 0.5));
        Assert.Throws<TinaException>(() => TaskSampler.HeldOutClasses(d, 1.0, 0));
        Assert.Throws<TinaException>(() => sampler.DrawWithUnseen(1, held, 1.5));
    }
}
