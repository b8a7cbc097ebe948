#include "opgraph/core/attribute.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace {

using opgraph::AttrSpec;
using opgraph::AttrType;
using opgraph::AttrValue;

TEST(AttrSpec, OptionalTakesItsTypeFromTheDefault) {
    const AttrSpec spec = AttrSpec::optional("groups", std::int64_t{1}).at_least(1);
    EXPECT_EQ(spec.type, AttrType::integer);
    EXPECT_FALSE(spec.required());
    EXPECT_EQ(spec.describe(), "int >= 1, default 1");
}

TEST(AttrSpec, RangeChecksNumbersAndListElements) {
    const AttrSpec stride =
        AttrSpec::optional("stride", std::vector<std::int64_t>{1, 1}).at_least(1).length(2);
    EXPECT_EQ(stride.check(AttrValue{std::vector<std::int64_t>{2, 2}}), "");
    EXPECT_EQ(stride.check(AttrValue{std::vector<std::int64_t>{1, 0}}),
              "element 1 must be >= 1, got 0");
    EXPECT_EQ(stride.check(AttrValue{std::vector<std::int64_t>{1, 1, 1}}),
              "expects a list of 2 values, got 3");
}

TEST(AttrSpec, ExclusiveBoundsAndNaN) {
    const AttrSpec rate = AttrSpec::required("rate", AttrType::real).at_least(0).less_than(1);
    EXPECT_EQ(rate.check(AttrValue{0.5}), "");
    EXPECT_EQ(rate.check(AttrValue{1.5}), "must be < 1, got 1.5");
    EXPECT_EQ(rate.check(AttrValue{std::nan("")}), "must be a finite number, got nan");
}

TEST(AttrSpec, ChoicesListTheAllowedStrings) {
    const AttrSpec padding =
        AttrSpec::optional("padding", std::string("valid")).one_of({"valid", "same"});
    EXPECT_EQ(padding.check(AttrValue{std::string("same")}), "");
    EXPECT_EQ(padding.check(AttrValue{std::string("full")}), "'full' is not one of: valid, same");
}

TEST(AttrMap, TypedGettersAndIntToFloat) {
    opgraph::AttrMap attrs;
    attrs.set("lr", std::int64_t{1});
    attrs.set("name", std::string("x"));
    EXPECT_DOUBLE_EQ(attrs.get_real("lr"), 1.0);
    EXPECT_EQ(attrs.get_string("name"), "x");
    EXPECT_THROW(attrs.get_int("name"), std::invalid_argument);
    EXPECT_THROW(attrs.get("missing"), std::out_of_range);
}

TEST(AttrValue, PrintsAsYaml) {
    EXPECT_EQ(opgraph::attr_value_str(AttrValue{std::vector<std::int64_t>{3, 3}}), "[3, 3]");
    EXPECT_EQ(opgraph::attr_value_str(AttrValue{2.0}), "2.0");
    EXPECT_EQ(opgraph::attr_value_str(AttrValue{true}), "true");
}

}  // namespace
