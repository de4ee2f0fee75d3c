# ruff: noqa: E501  (a pattern table reads best one alternative per line)
"""Indicator patterns (French and English; the signs that travel in es/de/it/pt and Arabic
in Latin letters), written against normalised text.

Normalised text is lowercase ASCII without accents, with leetspeak, spaced letters and
number words undone (see ``normalize``). Each category has patterns with a strength in
(0, 1] and *suppressors*: words that, in the same message, make the reading benign
(a photo *of the homework*, a secret *for mum's birthday*). Patterns describe warning signs
as child-protection guidance lists them; none is sexual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vigie.domain import Category

# Small building blocks, so SMS spellings are written once.
YOU = r"(?:you|u|ya|yu|yous)"
YOUR = r"(?:your|ur|yr|ure|youre)"
IM = r"(?:i'?m|im|i am)"
ILL = r"(?:i'?ll|ill|i will|i'?m gonna|im gonna|i am going to|gonna|i'?m going to)"
APPS = (
    r"(?:snap|snapchat|sc|snp|telegram|tg|telegrm|whatsapp|whatsap|wa|watsapp|insta|instagram|"
    r"ig|discord|disc|kik|signal|wickr|skype|tiktok|threema|session|line|wechat|viber|messenger|"
    r"sms|texto|textos|imessage|facetime)"
)
PICS = (
    r"(?:pic|pics|picture|pictures|photo|photos|foto|fotos|selfie|selfies|pix|image|images|img|"
    r"tof|tofs|toff|nude|nudes)"
)
TAS = r"(?:t'? ?as|tu as|as[- ]tu|vous avez)"
TES = r"(?:t'? ?es|tu es|vous etes|t'? ?etais|t(?= ))"
MOI = r"(?:moi|moa|mwa|mw)"
PARENTS_FR = (
    r"(?:tes parents|tes darons|tes vieux|ta mere|ta daronne|ton pere|ton daron|ta famille)"
)
PARENTS_EN = rf"(?:{YOUR} (?:parents|mom|mum|mommy|dad|daddy|folks|family))"


@dataclass(frozen=True, slots=True)
class Pattern:
    category: Category
    strength: float
    regex: re.Pattern[str]


def _c(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")")


RAW: dict[Category, list[tuple[float, list[str]]]] = {
    Category.AGE_PROBING: [
        (1.0, [
            rf"how old (?:are|r|ar) {YOU}", rf"(?:what'?s|whats|wats|what is) {YOUR} age",
            rf"{YOUR} age\s*\?", r"\basl\b", rf"what (?:grade|year|class) (?:are|r) {YOU} in",
            rf"which (?:grade|school year) (?:are|r) {YOU}",
            rf"when(?:'?s| is) {YOUR} (?:birthday|bday)", rf"(?:are|r) {YOU} (?:even )?(?:over|under) 1\d",
            rf"(?:are|r) {YOU} (?:like |only |even )?(?:1[0-7]|[89])\s*\?", rf"{YOU} in middle school",
            rf"{TAS} quel age", r"quel age (?:tu as|t'? ?as|as[- ]tu|avez)",
            rf"(?:{TES}|tu vas|t'? ?vas) en quelle classe", rf"{TES} en (?:6|5|4|3|2)(?:e|eme|nde)?\b",
            rf"{TES} au college", r"ta date (?:de naissance|d'?anniv)",
            r"c'? ?est quand ton anniv", rf"{TAS} (?:genre |quoi |koi )?(?:1[0-7]|[89]) ?ans\s*\?",
            r"ton age\s*\?", rf"{TES} (?:encore )?(?:mineure?|majeure?)\s*\?",
        ]),
    ],
    Category.PERSONAL_INFO: [
        (1.0, [
            rf"where do {YOU} live", rf"(?:what|which) (?:school|city|town) (?:do )?{YOU} (?:go|live|attend)",
            rf"(?:what'?s|whats|what is|send me|give me|drop) {YOUR} (?:address|adress|addy|home address|"
            r"phone number|number|postcode|zip ?code|location|school)",
            rf"share {YOUR} location", rf"(?:where|what street) (?:is|'s) {YOUR} (?:house|home|school)",
            r"(?:tu|t'?) ?habites? (?:ou|dans quelle ville|vers ou|dans quel)", r"t'? ?habites ou",
            r"(?:c'? ?est quoi|donne[- ]?moi|envoie[- ]?moi|file[- ]?moi|passe[- ]?moi) (?:ton|ta) "
            r"(?:adresse|numero|num|06|07|tel|telephone|ecole|college|localisation|position)",
            r"(?:tu vas|t'? ?es|tu es) dans quel(?:le)? (?:college|lycee|ecole|ville|quartier)",
            r"envoie[- ]?(?:moi )?(?:ta|ton) (?:localisation|position|adresse)",
            r"quel(?:le)? (?:est )?(?:ton|ta) (?:adresse|college|ecole|ville)",
        ]),
        (0.6, [
            rf"(?:do|d) {YOU} (?:have|got) (?:a )?(?:boyfriend|girlfriend|bf|gf)\b", rf"(?:are|r) {YOU} single",
            r"(?:t'? ?as|tu as|as[- ]tu) (?:un |une )?(?:copain|copine|amoureux|amoureuse|petit copain|petite copine|mec|meuf)\s*\?",
            rf"(?:are|r) {YOU} (?:in|at) {YOUR} room", rf"{TES} dans ta chambre\s*\?",
        ]),
    ],
    Category.SUPERVISION_PROBING: [
        (1.0, [
            rf"(?:are|r|is) {PARENTS_EN} (?:home|around|there|awake|asleep|sleeping|watching|away|"
            r"out|gone|at work|in the room|nearby)",
            rf"{PARENTS_EN} (?:home|around|there|awake|asleep|out)\s*\?", rf"(?:are|r) {YOU} (?:home )?alone", r"\bhome alone", rf"{YOU} alone (?:rn|right now|now|"
            r"tonight|at home|in (?:ur|your) room)",
            rf"(?:do|does) {PARENTS_EN} (?:ever )?(?:check|read|look at|see|monitor|go through) {YOUR} (?:phone|messages|"
            r"chats|dms|texts)",
            rf"(?:when|what time) (?:do|does) {PARENTS_EN} (?:leave|go to (?:bed|sleep|work)|get home|"
            r"come (?:back|home)|get back|go out)",
            rf"(?:anyone|anybody) (?:else )?(?:home|around|with {YOU})", r"is (?:anyone|anybody) watching",
            rf"{YOUR} (?:parents|mom|dad|mum) (?:asleep|sleeping|at work|gone|out)\s*\?",
            rf"(?:{PARENTS_FR}) (?:sont|est|sont-ils) (?:la|a la maison|chez toi|partie?s?|couche|"
            r"au travail|au boulot|absente?s?|sortie?s?)",
            rf"{TES} (?:toute? )?seule? (?:chez toi|a la maison|ce soir|la|dans ta chambre|rn)",
            rf"{TES} (?:toute? )?seule?\s*\?",
            rf"(?:{PARENTS_FR}) (?:regardent|lisent|checkent|verifient|surveillent|fouillent) "
            r"(?:ton (?:tel|telephone|portable)|tes (?:messages|convs?|discussions))",
            rf"(?:a )?quelle heure (?:{PARENTS_FR}) (?:partent|part|rentrent|rentre|se couchent|se couche|"
            r"dorment|dort)",
            r"(?:y'? ?a|il y a) quelqu'? ?un (?:chez toi|avec toi|a la maison)",
            r"personne (?:chez toi|a la maison)\s*\?",
            rf"do {PARENTS_EN} (?:go to (?:bed|sleep)|sleep|leave|work) (?:early|late)",
            rf"(?:{PARENTS_FR}) (?:se couchent|se couche|dorment|partent|bossent|travaillent) (?:tot|tard)",
            rf"{YOU} (?:have|got) {YOUR} own room", r"(?:t'? ?as|tu as) ta (?:propre )?chambre a toi",
        ]),
    ],
    Category.SECRECY: [
        (1.0, [
            rf"(?:don'?t|dont|do not|never|dnt) (?:tell|show|say (?:it|this|anything) to|mention (?:it|this|"
            rf"me|us) to) (?:{YOUR}|anyone|anybody|no ?one|ur|any of {YOUR}|them|ur)",
            r"(?:keep|keeps) (?:it|this|us|that|our (?:chat|convo|conversation|talks?|thing)) (?:a )?"
            r"(?:secret|between (?:us|you and me|u and me)|private|quiet|on the down ?low|to (?:yourself|urself))",
            r"our (?:little )?secret", r"(?:just |only )?between (?:us|you and me|u and me)\b",
            r"(?:nobody|no ?one|no one) (?:needs|has|have) to know",
            rf"(?:delete|erase|clear) (?:our|the|these|this|{YOUR}|all) (?:chat|chats|messages|convo|"
            r"conversation|msgs|dms|texts|pics)",
            rf"{PARENTS_EN} (?:wouldn'?t|would not|won'?t|will not|don'?t|dont) (?:understand|get it|"
            r"need to know|have to know)",
            rf"(?:ne )?(?:le |en )?(?:dis|dit|raconte|parle) (?:rien|pas|le pas|en pas|jamais) (?:a|aux?) "
            rf"(?:personne|{PARENTS_FR}|tes (?:amis|potes|copines?))",
            r"(?:ne )?(?:le |en )?dis (?:rien|pas)\b",
            rf"(?:pas|jamais|rien) (?:le |en |lui )?(?:dire|raconter|parler) (?:a|aux?) "
            rf"(?:personne|{PARENTS_FR}|tes (?:amis|potes|copines?))",
            r"garde (?:ca|le|la|tout|ceci) (?:pour toi|secret|entre nous)", r"(?:notre|c'? ?est notre) (?:petit )?secret",
            r"(?:juste |que )?entre (?:nous|toi et moi)\b",
            r"personne (?:ne )?(?:doit|n'? ?a besoin de|a besoin de|va) (?:le )?savoir",
            r"personne (?:ne )?(?:le )?saura\b",
            rf"si (?:{PARENTS_FR}|quelqu'? ?un) (?:voit|voient|lit|lisent|tombe sur|tombent sur) "
            r"(?:nos|mes|ces|la|notre) (?:messages|msgs|conv|conversation|discussion|photos?)",
            rf"if (?:{PARENTS_EN}|anyone|someone) (?:sees?|reads?|finds?) (?:our|my|these|this) "
            r"(?:messages|msgs|chats?|convo|texts|dms)",
            r"(?:nobody|no ?one|no one) (?:will|would|is gonna|is going to) (?:ever )?(?:know|find out)\b",
            r"(?:efface|supprime|delete) (?:la|nos|les|ce|cette|notre|tes|tout) (?:conv|convs|conversation|"
            r"discussion|messages|msgs|photos?|tofs?)",
            rf"(?:{PARENTS_FR}) (?:ne )?(?:comprendraient|comprendront|pigeraient|doivent|ont pas a) "
            r"(?:pas|rien|savoir|le savoir)",
            r"c'? ?est un secret", r"(?:n'? ?en parle|parle en|en parles) (?:pas|a personne)",
            rf"(?:can|could) {YOU} keep a secret", r"tu (?:sais|peux) garder un secret",
            r"parle pas de (?:moi|nous|ca)",
            r"(?:don'?t|dont|do not|never) show (?:our|these|my|the) (?:messages|chats|convo|texts|dms)",
            r"(?:delete|erase|clear) (?:my|our) (?:messages|texts|dms|chats)",
            r"(?:efface|supprime) (?:mes|nos) (?:messages|msgs)",
            r"(?:si|if) (?:on te demande|quelqu'? ?un demande|anyone asks|someone asks|they ask)", r"(?:ne )?montre (?:pas|a personne) (?:nos|mes|ces) messages",
        ]),
    ],
    Category.ISOLATION: [
        (1.0, [
            r"(?:moi )?je (?:ne )?(?:te )?juge pas comme (?:eux|les autres|tes parents|tes potes|tes amis)",
            rf"(?:i|me) (?:don'?t|dont|won'?t|never) judge {YOU} like (?:they|them|the others|{YOUR} (?:parents|friends))",
            rf"(?:only|nobody but|no one but) (?:i|me) (?:really )?(?:understand|get|know|care about|love)s? {YOU}",
            rf"(?:they|{YOUR} (?:parents|friends|mom|dad|family|mum)) (?:don'?t|dont|never|do not|"
            rf"doesn'?t) (?:really )?(?:understand|get|care about|deserve|appreciate|listen to) {YOU}",
            rf"{IM} the only one (?:who|that) (?:really )?(?:understands|gets|cares|listens)",
            rf"{YOUR} friends (?:are|r) (?:so )?(?:immature|fake|childish|jealous|not real|boring)",
            rf"{YOU} (?:don'?t|dont) need (?:them|{YOUR} (?:friends|parents|family)|anyone else)",
            rf"{YOU} can only trust me", rf"(?:they|{PARENTS_EN}) (?:treat|treats) {YOU} like a (?:kid|baby|child)",
            rf"{IM} (?:more mature|different) than (?:the )?(?:boys|kids|guys)",
            r"(?:y'? ?a que|il n'? ?y a que|seul) moi (?:qui te comprend|qui te connait|qui t'? ?aime|"
            r"qui tient a toi)", r"moi (?:seul |je )te comprends",
            rf"(?:{PARENTS_FR}|tes amis|tes potes|tes copines?) (?:ne )?(?:te comprennent|te comprend|"
            r"te meritent|te merite|t'? ?ecoutent|t'? ?apprecient) (?:pas|jamais)",
            r"(?:tes amis|tes potes|tes copines?) (?:sont|c'? ?est des) (?:immatures|faux|fausses|"
            r"jaloux|jalouses|des gamins|nuls)",
            rf"{TAS} pas besoin (?:d'? ?eux|d'? ?elles|de (?:tes|ta|ton) (?:parents|amis|potes|famille))",
            r"(?:ils|tes parents) te (?:traitent|prennent) (?:comme |pour )?(?:un bebe|une gamine|un gamin|"
            r"un enfant)", r"je suis (?:le|la) seule? (?:a|qui) te",
            r"(?:toujours la pour toi|always (?:be )?there for (?:you|u)).{0,12}(?:pas eux|pas comme eux|not them|unlike them)",
        ]),
        (0.5, [rf"{YOU} can (?:tell|trust) me (?:anything|everything)", r"tu peux tout me dire",
               r"tu peux me faire confiance"]),
    ],
    Category.FLATTERY: [
        (1.0, [
            r"(?:you'?re|youre|ur|you are|u r|u are) (?:so |really |very |super |soo |too |such )?"
            r"(?:mature|beautiful|pretty|cute|gorgeous|hot|stunning|perfect|grown up)\b",
            rf"(?:mature|grown up) for {YOUR} age", rf"{YOU} (?:look|seem) (?:older|so mature|grown up|like a model)",
            r"(?:such|what) a (?:pretty|beautiful|cute|gorgeous) (?:girl|boy|face|smile)",
            rf"(?:love|like) {YOUR} (?:body|face|eyes|smile|lips|legs|figure)",
            r"not like (?:other|the other) (?:girls|boys|kids)",
            rf"{TES} (?:trop |tellement |vraiment |si |super |hyper )?(?:mature|belle|jolie|mignonne|"
            r"magnifique|canon|sexy|parfaite|speciale)\b",
            r"(?:mature|grande?) pour ton age", r"tu fais (?:plus vieille?|plus que ton age|plus grande?|"
            r"(?:1[6-9]|2\d) ans)",
            rf"{TAS} (?:un|de|des) (?:beaux?|belles?|joli|jolis) (?:yeux|corps|sourire|visage|jambes)",
            r"j'? ?adore (?:ton|ta|tes) (?:corps|visage|sourire|yeux|levres|jambes)",
            r"pas comme les autres (?:filles|gars|garcons|meufs)",
            r"age is (?:just|only) a number", r"l'? ?age (?:c'? ?est|n'? ?est) qu'? ?un (?:chiffre|nombre)",
        ]),
        (0.7, [
            rf"i (?:think about|miss|dream about) {YOU}\b", rf"{YOU}(?:'re| are| r) my (?:favou?rite|special)",
            r"je pense a toi tout le temps", r"tu me manques", r"je reve de toi", r"t'? ?es ma (?:preferee|prefere)",
        ]),
    ],
    Category.GIFT_OFFER: [
        (1.0, [
            rf"(?:{ILL}|i can|i could|let me|want me to|wanna me|i'?d) (?:buy|get|give|send|gift|pay for) "
            rf"(?:{YOU} |{YOUR} )?(?:some |a |free |new |the )?(?:\d[\d ,.]*k? )?(?:free )?(?:robux|v-?bucks|vbucks|skins?|gift ?cards?|money|"
            r"cash|gems|coins|diamonds|nitro|battle ?pass|phone|iphone|presents?|gifts?|clothes|"
            r"something nice|credit|top ?up)",
            r"free (?:robux|v-?bucks|vbucks|skins?|nitro|gems)",
            r"(?:want|need|wanna) (?:some )?(?:free )?(?:robux|v-?bucks|vbucks|skins?|nitro|gems)\s*\?",
            r"je (?:peux |vais |pourrais |te )?(?:t'? ?acheter|te payer|t'? ?offrir|te donner|t'? ?envoyer|"
            r"te filer|te passer) (?:des |un |une |le |du |de l'? ?|la |ton |ta )?(?:\d[\d ,.]*k? )?(?:robux|v-?bucks|vbucks|"
            r"skins?|carte cadeau|cartes cadeaux|argent|thunes?|sous|gemmes|diamants|nitro|pass|"
            r"cadeaux?|iphone|telephone|vetements|forfait|recharge|credits?)",
            r"(?:tu )?(?:veux|voudrais) (?:des )?(?:robux|v-?bucks|vbucks|skins?|gemmes|diamants|nitro)",
            r"(?:robux|v-?bucks|vbucks|skins?|nitro) (?:gratuits?|offerts?|gratos)",
        ]),
    ],
    Category.PLATFORM_MIGRATION: [
        (1.0, [
            rf"(?:add|text|message|dm|hit|find|follow|talk to|call|msg) (?:me|mi) (?:up )?(?:on|at|via|over on|on my) {APPS}",
            rf"(?:do )?{YOU} (?:have|got|use|on) (?:a |an )?{APPS}\b",
            rf"(?:what'?s|whats|wats|what is|drop|send me|give me|gimme) {YOUR} {APPS}",
            rf"(?:let'?s|lets|we should|can we|wanna) (?:move|talk|chat|go|switch|continue|take this) "
            rf"(?:to|on|over to|somewhere)? ?(?:{APPS}|private|more private|somewhere else)",
            r"(?:talk|chat) (?:somewhere|some place) (?:more )?(?:private|else|safer)",
            rf"my {APPS} (?:is|:|=|@)",
            rf"(?:ajoute|add|rajoute|ecris|parle|contacte|suis|viens)[- ]?{MOI} (?:sur|en|par|via) {APPS}",
            rf"{TAS} (?:un |une )?(?:compte )?{APPS}\b",
            rf"(?:c'? ?est quoi|donne[- ]?moi|envoie[- ]?moi|passe[- ]?moi|file[- ]?moi) (?:ton|ta|tes) {APPS}",
            rf"(?:on |viens on |on peut )?(?:passe|va|parle|continue|bouge|se parle|discute) (?:sur|en) "
            rf"(?:{APPS}|prive|mp|dm)",
            r"(?:parler|discuter) (?:ailleurs|en prive|sur une autre app)",
            rf"(?:rather|prefer(?: to| if)?|better if) (?:we |u |you )?(?:talk|chat|text|continue|move|go)(?: to| on| over| via| over on)? {APPS}\b",
            rf"(?:on (?:se )?parlera|on discutera|on continuera|je t'? ?ecrirai) (?:sur|par|via|en) {APPS}\b",
            rf"(?:je t'? ?explique|je te (?:dis|raconte|montre)|on (?:en )?parle|on continue|je t'? ?ecris|"
            rf"je t'? ?appelle|on s'? ?appelle|on se parle|on discute) (?:tout |mieux )?(?:sur|par|via|en) {APPS}\b",
            rf"(?:i'?ll|i will|ill|we can|we could) (?:explain|tell {YOU}|text {YOU}|message {YOU}|dm {YOU}|"
            rf"call {YOU}|talk|chat) (?:more |better )?(?:on|via|over|over on) {APPS}\b",
            r"(?:ecris|parle)[- ]moi en (?:prive|mp|dm)", r"\b(?:mp|dm|pm)[- ](?:moi|me)\b",
            r"(?:sur|on) (?:une autre|another|a different|an other) (?:appli|app|application|site|platform)",
            r"(?:mieux|better|safer|plus tranquilles?) (?:sur|on|ailleurs|elsewhere|somewhere else)",
            rf"mon {APPS} (?:c'? ?est|:|=|@)",
            r"(?:on va|allons|let'?s go|we go) (?:ailleurs|somewhere else|elsewhere)", r"c'? ?est surveille\b",
            r"(?:this|here|it)(?:'s| is) (?:monitored|watched|moderated)",
        ]),
    ],
    Category.IMAGE_REQUEST: [
        # Photos of the child themselves: the warning sign.
        (1.0, [
            rf"(?:{PICS}|videos?|vids?|clips?) (?:of|de) (?:{YOU}|yourself|urself|toi|ton corps|ton visage|{YOUR} (?:body|face))\b",
            r"(?:send|take|snap|fais|envoie|prends|share)(?:[- ]moi)? (?:me |moi )?(?:a |an |un |une |another |encore un )?(?:selfie|selfies)",
            rf"(?:send|show) me (?:{YOU}|yourself|urself|{YOUR} (?:body|face|outfit))\b",
            rf"take a {PICS} of (?:yourself|urself)", r"prends[- ]toi en (?:photo|selfie)",
            rf"(?:wanna|want to|would love to|i want to|i'?d love to) see (?:{YOU}|more of {YOU}|what {YOU} look like)\b",
            rf"(?:in|wearing) {YOUR} (?:pyjamas|pajamas|bikini|swimsuit|underwear)",
            rf"show me what {YOU}'?(?:re| are) wearing", rf"what (?:are|r) {YOU} wearing",
            r"(?:tu portes|t'? ?es habillee?) (?:quoi|comment)",
            r"(?:envoie|montre)[- ]?moi (?:toi|ton (?:corps|visage)|ta tenue|ce que tu portes)",
            r"montre[- ]toi\b", r"show (?:me )?(?:yourself|urself)\b",
            r"je (?:veux|voudrais|aimerais) (?:te voir|voir a quoi tu ressembles|voir ton (?:corps|visage))",
            r"(?:en|dans ton) (?:pyjama|maillot(?: de bain)?|sous-vetements|lit)\s*\?",
            rf"(?:swap|trade|exchange) (?:some )?{PICS}", rf"(?:s'? ?echange|echanger|on s'? ?envoie) (?:des |nos )?{PICS}",
            r"(?:i'?ll|i will|je t'? ?en) (?:send|envoie) (?:one|mine|une aussi|la mienne)",
            r"(?:you|u) send (?:one|a pic|a photo),? i(?:'ll| will)? send (?:one|mine)",
        ]),
        # A photo, of what is not said: weak on its own (teachers and parents ask too).
        (0.45, [
            rf"(?:send|show|snap|text|dm|share) (?:me )?(?:a |some |more |another |ur |your )?{PICS}",
            rf"(?:can|could|will|would) (?:{YOU}|i) (?:send|get|see|have) (?:me )?(?:a |some |another |more )?{PICS}",
            rf"(?:envoie|envois|envoi|montre|balance|passe)[- ]?(?:{MOI} )?(?:une |des |ta |tes |un |d'? ?autres? |"
            rf"encore )?{PICS}",
            rf"(?:tu peux|tu pourrais|tu veux bien|peux[- ]tu) (?:m'? ?envoyer|me montrer|m'? ?en envoyer) "
            rf"(?:une |des |ta |encore )?{PICS}",
            rf"je (?:veux|voudrais|peux|aimerais) (?:voir|avoir) (?:une |des |ta |tes |encore )?{PICS}",
            rf"{PICS} (?:pls|please|plz|stp|now)\b",
        ]),
    ],
    Category.CAMERA_REQUEST: [
        (1.0, [
            rf"(?:turn|put|switch) (?:on )?(?:{YOUR}|the) (?:cam|camera|webcam|video)",
            r"(?:cam|camera|webcam) (?:on|pls|please|plz)\b",
            rf"(?:can|could|will|wanna|want to|shall) (?:we|{YOU}) (?:video ?call|facetime|go on cam|cam)",
            r"(?:go|get|hop) on (?:cam|camera|video)", r"(?:let'?s|lets) (?:video ?call|facetime|cam)",
            r"call me on (?:facetime|video)", r"facetime (?:me|moi)\b", r"\bfacetime\s*\?", r"video ?call (?:me|with me|now|tonight)",
            r"(?:allume|active|mets|ouvre)[- ]?(?:ta |la )?(?:cam|camera|webcam|video)",
            r"(?:on (?:fait|se fait)|tu veux faire|tu peux faire|fais|faire) (?:un |une )?(?:appel video|"
            r"facetime|visio|cam)",
            r"(?:appel|appelle)[- ]?(?:moi )?en (?:video|visio|facetime)",
            r"(?:cam|camera|webcam) (?:stp|s'? ?il te plait|steuplait|allumee)",
            r"passe en (?:cam|video)",
        ]),
    ],
    Category.MEETING_REQUEST: [
        (1.0, [
            r"(?:we should|let'?s|lets|can we|could we|wanna|want to|when can we|i want to|i'?d love to|"
            r"we could|we can) (?:meet|meet up|see each other|hang out irl|hang out in person)",
            r"meet (?:up )?(?:irl|in person|in real life|somewhere|alone|for real)",
            r"(?:where|when) (?:can|could|should) we meet", r"(?:ou|quand) (?:est-ce qu'? ?)?on (?:peut|pourrait) se (?:voir|retrouver)",
            r"(?:hang out|see each other|meet|se voir|se retrouver|se capter).{0,12}(?:just us|alone|the two of us|us two|tous les deux|juste nous deux|seuls?)",
            rf"(?:i can|i could|{ILL}|let me) (?:come (?:to|and)|drive to|visit {YOU}|come see {YOU})",
            rf"{IM} (?:near|close to|not far from) {YOUR} (?:place|house|school|town)",
            rf"(?:come|{YOU} could come) (?:to|over to) my (?:place|house|flat|apartment|car|hotel)",
            r"(?:wait for me|meet me) (?:at|after|near|behind|in|outside)",
            r"(?:viens|tu viens) (?:me (?:rejoindre|retrouver|voir)|chez moi)\b",
            r"(?:rejoins|retrouve)[- ]moi (?:au|a la|a l'? ?|aux|chez|devant|derriere|dans|pres|apres|ce soir|demain)",
            r"(?:come|come and) (?:meet|join|see) me (?:at|in|near|behind|outside|after|tonight|tomorrow)",
            r"(?:on (?:pourrait|peut|devrait)|tu veux qu'? ?on|ca te dit (?:qu'? ?on|de)|j'? ?aimerais "
            r"(?:qu'? ?on|te)|je veux|faut qu'? ?on) (?:se )?(?:voir|rencontrer|retrouver|capter)",
            r"(?:se voir|se rencontrer|se capter|se retrouver) (?:en vrai|irl|pour de vrai|un de ces jours|"
            r"ce week-?end|demain|apres les cours|seuls?|tous les deux)",
            r"je (?:peux|pourrais|vais|viens) (?:venir chez toi|te rejoindre|venir te voir)",
            r"(?:viens|tu peux venir|tu veux venir) (?:chez moi|dans ma voiture|a mon appart|a mon hotel)",
            r"(?:j'? ?habite|je suis|je bosse|je travaille) (?:pas loin|a cote|pres) de (?:chez toi|ton college|"
            r"ton ecole|toi)",
            r"(?:attends|rejoins)[- ]?moi (?:a|au|devant|derriere|apres|dans)",
            r"on se voit (?:quand|ou|en vrai|ce soir|demain|samedi|dimanche)",
        ]),
        (0.6, [
            rf"(?:i can|i could|{ILL}|let me) (?:pick {YOU} up|come get {YOU}|give {YOU} a ride|drive {YOU})",
            r"je (?:peux|pourrais|vais|viens) (?:venir te chercher|passer te chercher|te chercher|te ramener|"
            r"te deposer)",
        ]),
    ],
    Category.SEXTORTION_THREAT: [
        # Threats that name the child's images or messages, or make sharing conditional.
        (1.0, [
            rf"{ILL} (?:send|share|post|leak|show|forward|expose|spread|publish|upload) (?:all )?(?:{YOUR}|these|those|them|it all|everything)\b.{{0,40}}"
            r"(?:friends|family|parents|mom|dad|school|followers|contacts|classmates|teachers|everyone|"
            r"everybody|internet|online|everywhere)",
            rf"{ILL} (?:send|share|post|leak|show|forward|expose|spread|publish|upload) (?:all )?{YOUR} (?:{PICS}|videos?|vids?|screenshots?|messages|chats)",
            rf"(?:\bor(?: else)?|otherwise|if {YOU} (?:don'?t|dont|do not|refuse|block me|tell)[^.?!]{{0,20}}?)[, ]+"
            rf"(?:(?:{ILL}|i) (?:send|post|share|leak|show|expose|publish|upload|tell) (?:it|them|everything|all|{YOUR}|"
            rf"these|those|this|everyone|everybody)|(?:everyone|everybody|{YOUR} "
            r"(?:friends|family|parents|school)) (?:will|gonna|'ll|is going to|are going to) (?:all )?(?:see|know|get))\b",
            rf"(?:ruin|destroy) {YOUR} (?:life|reputation)", rf"i know where {YOU} live",
            rf"(?:everyone|everybody|{YOUR} (?:friends|family|parents|school|classmates|followers)) (?:will|gonna|'ll|is going to|are going to) "
            rf"(?:all )?(?:see|get|receive) (?:everything|it all|all of it|them|{YOUR} (?:{PICS}|videos?|messages)|the (?:{PICS}|videos?|screenshots?))",
            r"(?:tout le monde|tes (?:parents|amis|potes)|ton (?:college|ecole)) (?:va|vont|verra|verront) (?:tout )?(?:voir|recevoir) "
            rf"(?:tout|tes (?:{PICS}|videos?|messages)|les (?:{PICS}|videos?|captures))",
            r"(?:je vais|j'? ?vais|je peux) (?:tout )?(?:envoyer|balancer|partager|poster|publier|montrer|"
            r"diffuser|leak|transferer) (?:tes|ta|tout|ces|les)\b.{0,40}(?:amis|potes|copains|copines|parents|"
            r"famille|mere|pere|college|ecole|lycee|classe|contacts|abonnes|monde|profs|internet|reseaux|partout)",
            rf"(?:je vais|j'? ?vais|je peux) (?:envoyer|balancer|partager|poster|publier|diffuser|leak) (?:tes|ta) (?:{PICS}|videos?|screens?|captures|messages|conv)",
            r"je (?:balance|envoie|publie|poste|partage|diffuse) (?:tout|tes|ta)\b.{0,30}(?:amis|potes|parents|famille|college|ecole|lycee|classe|contacts|abonnes|monde|partout|internet|insta)",
            r"(?:sinon|ou alors|si tu (?:ne )?(?:paies|payes|m'? ?envoies|fais|me bloques) pas|si tu refuses|"
            r"si tu me bloques|si tu (?:le )?dis)[ ,]+(?:(?:je |j'? ?)(?:vais )?(?:les |la |le |l'? ?|te )?(?:envoie|envoyer|balance|balancer|publie|"
            r"publier|poste|poster|partage|partager|montre|montrer|diffuse|diffuser|dis|dire)|(?:tout le monde|tes "
            r"(?:parents|amis|potes)|ton (?:college|ecole)) (?:va|vont|verra|verront|saura|sauront|recevra|recevront))",
            r"(?:gacher|ruiner|detruire) ta (?:vie|reputation)", r"je sais ou tu (?:habites|vis)",
        ]),
        # Ambiguous alone ("everyone will see the new map"): weak, count with the rest.
        (0.35, [
            rf"(?:i have|i got|i'?ve got|i saved|i screenshotted|i recorded|i kept) (?:{YOUR}|the|all {YOUR}|"
            rf"these|those|all the) (?:{PICS}|videos?|screenshots?|vids?)",
            rf"(?:j'? ?ai|jai|j'? ?ai garde|j'? ?ai enregistre|j'? ?ai screen|j'? ?ai des captures de) "
            rf"(?:tes|ta|les) (?:{PICS}|videos?|screens?|captures)",
            rf"(?:j'? ?ai|jai|j'? ?ai garde) (?:des|plein de) (?:{PICS}|videos?|screens?|captures) de toi",
            rf"(?:everyone|everybody|{YOUR} (?:friends|family|parents|school|classmates)) (?:will|gonna|is "
            r"going to|are going to|'ll) (?:all )?(?:see|get|know|receive)",
            r"(?:tout le monde|tes (?:parents|amis|potes)|ton (?:college|ecole)) (?:va|vont|verra|verront|saura|"
            r"sauront) (?:les |la |le |tes |tout )?(?:voir|savoir|recevoir|tout)",
            r"(?:ils|elles) vont (?:tous|toutes) (?:voir|savoir|recevoir)", r"they(?:'ll| will) all (?:see|know|get)",
            rf"{ILL} tell (?:everyone|everybody|{YOUR} (?:parents|mom|dad|friends|school))",
            r"je vais (?:le |tout )?(?:dire|raconter) a (?:tout le monde|tes parents|ta mere|ton pere|tes amis|ton college)",
            rf"{ILL} (?:send|share|post|leak|show|forward|expose|spread|publish|upload)\b.{{0,40}}"
            r"(?:friends|family|parents|school|followers|contacts|classmates|everyone|everybody|internet|online)",
        ]),
    ],
    Category.PAYMENT_DEMAND: [
        (1.0, [
            r"(?:send|pay|give|transfer|wire) (?:me )?(?:\$ ?\d+|\d+ ?(?:\$|dollars?|bucks|euros?|e|gbp|usd))",
            r"(?:pay|send|give|transfer) me (?:the |some |my )?(?:money|cash)", r"(?:send|transfer|wire) (?:the|my) money", rf"{YOU} (?:have|got|need) to pay", r"pay (?:up|now|me)\b(?! back)",
            r"(?:envoie|envois|paie|paye|vire|donne|transfere)[- ]?(?:moi )?(?:\d+ ?(?:e|euros?|balles)\b|"
            r"de l'? ?argent|l'? ?argent|des sous|la thune|le fric)",
            r"(?:paie|paye|payes|paies) (?:maintenant|vite|tout de suite|ce soir)",
            r"tu (?:dois|vas) me payer",
            r"(?:i want|i need|gimme|give me) (?:\$ ?)?\d+ ?(?:\$|dollars?|bucks|euros?|e|gbp|usd|quid)\b", r"(?:owe me|tu me dois) (?:\$ ?)?\d+", r"(?:je veux|il me faut) (?:\d+ ?(?:e|euros?|balles)|de l'? ?argent|des sous)",
        ]),
        (0.6, [
            r"(?:gift ?cards?|itunes card|amazon card|steam card|google play card|paysafe ?card|bitcoin|btc|"
            r"usdt|cashapp|cash app|venmo|zelle)\b",
            r"(?:carte|cartes) (?:cadeau|psn|steam|google play|itunes|amazon|paysafe|transcash|neosurf)",
            r"(?:paysafecard|transcash|neosurf|pcs|bitcoin|lydia)\b",
        ]),
    ],
    Category.PRESSURE: [
        (1.0, [
            rf"{YOU} have (?:\d+|one|an|a) (?:minutes?|hours?|mins?|hour)\b", r"now or never",
            r"last chance", rf"why (?:are|r) {YOU} (?:ignoring|ignore) me", r"answer me\b",
            rf"why (?:won'?t|wont|don'?t|dont) {YOU} (?:answer|reply|trust me)",
            rf"if {YOU} (?:really )?(?:loved|liked|cared about|trusted) me", rf"{YOU} (?:promised|owe me)",
            r"(?:don'?t|dont) be (?:a baby|a kid|shy|scared|boring|like that)",
            r"(?:stop being|you'?re being) (?:a baby|shy|childish|boring|difficult)",
            rf"i thought {YOU} (?:were|was) (?:mature|different|cool)",
            rf"(?:nobody|no one|noone) will (?:believe|care about) {YOU}", rf"{YOU} (?:have|got) no choice",
            r"(?:before|by) (?:tonight|midnight|tomorrow)\b",
            r"maintenant ou jamais", r"derniere chance", r"tu as (?:\d+|une|un) (?:minutes?|heures?|min|h)\b",
            r"pourquoi tu (?:m'? ?ignores|reponds pas|me reponds pas)", r"reponds[- ]moi\b",
            r"si tu (?:m'? ?aimais|tenais a moi|me faisais confiance)",
            r"tu (?:m'? ?avais|m'? ?as) promis", r"tu me (?:le )?dois",
            r"fais pas (?:ta|le|la|ton) (?:gamine?|bebe|timide|coincee?|relou)",
            r"arrete de faire (?:ta|le|la) (?:gamine?|bebe|timide)",
            r"je (?:pensais|croyais) que t'? ?etais (?:mature|differente?|cool)",
            r"personne (?:ne )?te croira", rf"{TAS} pas le choix", r"avant (?:ce soir|minuit|demain)\b",
        ]),
    ],
}  # fmt: skip

# Spanish, German, Italian, Portuguese and Arabic in Latin letters (issue 17): the signs
# that travel across languages with the fewest words — moving to another app, payment
# demands and means, threats to share images — plus AI-made fake images and paid live
# streams in any language. The model reads these languages from n-grams and embeddings
# too; the patterns give moderators the words.
APPS_MORE = rf"(?:{APPS}|zap|zapzap|wpp|whats|telegrama)"
OTHER_LANGUAGES: dict[Category, list[tuple[float, list[str]]]] = {
    Category.PLATFORM_MIGRATION: [
        (1.0, [
            rf"(?:agregame|escribeme|hablame|sigueme|llamame|mandame (?:un )?mensaje) (?:en|por|al?) {APPS_MORE}",
            rf"(?:pasame|dame|cual es) tu {APPS_MORE}", rf"(?:hablemos|sigamos|seguimos|vamos) (?:por|en|a) (?:{APPS_MORE}|privado)",
            rf"(?:me adiciona|me add|adiciona[- ]?me|me chama|chama[- ]?me|fala comigo|me segue) (?:no|na|pelo|pela|em) {APPS_MORE}",
            rf"(?:passa|me passa|qual (?:e|eh) o) (?:teu|seu) {APPS_MORE}", rf"(?:vamos|bora) (?:falar|conversar|continuar) (?:no|na|pelo|em) (?:{APPS_MORE}|privado)",
            rf"(?:aggiungimi|scrivimi|contattami|seguimi|chiamami) (?:su|in|a) {APPS_MORE}", rf"(?:passami|dammi|qual e) (?:il tuo|la tua|tuo|tua) {APPS_MORE}",
            rf"(?:parliamo|continuiamo|andiamo|sentiamoci) (?:su|in) (?:{APPS_MORE}|privato)",
            rf"(?:schreib|add|adde|folg|kontaktier) (?:mir|mich) (?:auf|bei|uber|in|per) {APPS_MORE}", rf"(?:gib mir dein|was ist dein|hast du) {APPS_MORE}",
            rf"(?:lass uns|wollen wir) (?:auf|bei|in|uber) (?:{APPS_MORE}|privat) (?:schreiben|reden|weiter)",
            rf"(?:zidni|ajoutini|ktebli|sifetli|sifatli|3tini|atini) (?:3la|3al|f|fi|sur) {APPS_MORE}", rf"(?:3tini|atini|a3tini) (?:l|el)?{APPS_MORE}",
        ]),
    ],
    Category.AGE_PROBING: [
        (1.0, [
            r"cuantos anos tienes", r"que edad tienes", r"quantos anos (?:voce tem|vc tem|tens|tem)", r"qual (?:e|eh) a tua idade",
            r"quanti anni hai", r"wie alt bist du", r"in welche klasse gehst du", r"en que curso (?:estas|vas)", r"in che classe sei",
            r"ch7al f (?:3mrek|3omrek|omrek)", r"ch7al 3mrk",
        ]),
    ],
    Category.SECRECY: [
        (1.0, [
            r"no (?:le )?(?:digas|cuentes) (?:nada )?(?:a nadie|a tus padres|a tu (?:madre|padre|mama|papa)|de esto|nada)",
            r"(?:es|sera) (?:nuestro|un) secreto", r"(?:queda|que quede) entre (?:tu y yo|nosotros)",
            r"(?:nao|n) (?:conta|contes|fala|diz) (?:nada )?(?:pra ninguem|a ninguem|pros? (?:teus|seus) pais|pra (?:tua|sua) mae|pro (?:teu|seu) pai|disso|nada)",
            r"(?:e|fica) (?:o )?nosso segredo", r"fica (?:so )?entre (?:a gente|nos)",
            r"non (?:dire|dirlo|raccontare) (?:niente |nulla )?(?:a nessuno|ai tuoi(?: genitori)?|a tua (?:madre|mamma)|a tuo (?:padre|papa)|niente|nulla)",
            r"(?:e|sara) il nostro segreto", r"(?:resta|rimane) tra (?:noi|me e te)",
            r"(?:sag|erzahl) (?:deinen eltern|deiner mutter|deinem vater|niemandem|keinem) (?:nichts|davon|was)",
            r"(?:das ist|bleibt) (?:unser geheimnis|unter uns)",
            r"(?:ma t(?:golh|gouli|goul)|matgolich|matgoulich) (?:l|la|3la)? ?(?:chi 7ed|walidik|mok|bak|yemak|babak)",
        ]),
    ],
    Category.IMAGE_REQUEST: [
        (1.0, [
            r"(?:mandame|enviame|pasame|manda(?:me)?) (?:una |unas )?(?:foto|fotos|selfie) (?:tuya|tuyas|de ti)",
            r"(?:me )?(?:manda|envia|mande) (?:uma |umas )?(?:foto|fotos|selfie) (?:tua|sua|de voce|de vc|tuas|suas)",
            r"(?:mandami|inviami|mandarmi|fammi vedere) (?:una |delle )?(?:foto|selfie) (?:tua|tue|di te)",
            r"(?:schick|sende) mir (?:ein |mal ein )?(?:foto|bild|selfie) von dir",
            r"(?:sifetli|siftli|sifatli|seftli) (?:chi |wa7d )?(?:tswira|tsawer|photo)",
        ]),
    ],
    Category.CAMERA_REQUEST: [
        (1.0, [
            r"(?:pon|prende|enciende|abre) (?:la )?(?:camara|cam)", r"(?:liga|abre) a (?:camera|cam)",
            r"(?:accendi|apri) (?:la )?(?:camera|cam|webcam|telecamera)", r"(?:mach|schalte?) (?:die )?(?:kamera|cam) an",
        ]),
    ],
    Category.MEETING_REQUEST: [
        (1.0, [
            r"(?:quedamos|nos vemos|podemos vernos|vernos en persona)", r"(?:a gente|nos) (?:pode|podemos) (?:se )?(?:ver|encontrar)",
            r"(?:ci vediamo|possiamo vederci|vediamoci)", r"(?:wollen wir uns|konnen wir uns|lass uns) (?:mal )?(?:treffen|sehen)",
        ]),
    ],
    Category.SUPERVISION_PROBING: [
        (1.0, [
            r"(?:estas|estas) sol[oa] en (?:casa|tu casa)", r"(?:tus padres|tu madre|tu padre) (?:estan|esta) en casa",
            r"(?:voce|vc|tu) (?:ta|esta|estas) sozinh[oa]", r"(?:teus|seus) pais (?:estao|tao) em casa",
            r"sei da sol[oa]", r"(?:i tuoi|tua madre|tuo padre) (?:sono|e) a casa", r"bist du allein(?: zu hause)?",
            r"sind deine eltern (?:zu hause|da)",
        ]),
    ],
    Category.PAYMENT_DEMAND: [
        (1.0, [
            r"(?:mandame|enviame|pagame|transfiereme|dame|hazme un bizum de) (?:\d+|dinero|la plata|plata|pasta)", r"(?:tienes que|vas a) pagar(?:me)?",
            r"(?:me manda|manda|paga|transfere|me passa|faz um pix de) (?:\d+|dinheiro|o dinheiro|grana)", r"(?:voce|vc|tu) (?:tem que|tens de|vai) (?:me )?pagar",
            r"(?:mandami|inviami|pagami|dammi|fammi una ricarica di) (?:\d+|soldi|i soldi)", r"(?:devi|dovrai) (?:pagare|pagarmi)",
            r"(?:schick|zahl|uberweis|gib) (?:mir )?(?:\d+|geld|das geld|kohle)", r"du (?:musst|wirst) (?:mir )?(?:zahlen|bezahlen)",
            r"(?:sift|seft|sifet|b3tli|ba3tli|3tini|atini) (?:li |lia )?(?:\d+|flous|flouss|lflous|drahem|dra)",
        ]),
        (0.6, [
            r"(?:bizum|tarjetas? regalo|tarjetas? de regalo|pix|cartao presente|mb ?way|ricarica|carte? regalo|buono regalo|postepay|"
            r"gutschein|geschenkkarte|amazon[- ]?karte|western union|moneygram|remitly|worldremit|wafacash|cashplus|baridimob|flexy)\b",
        ]),
    ],
    Category.SEXTORTION_THREAT: [
        (1.0, [
            r"(?:voy a|vo a|las voy a) (?:enviar|mandar|publicar|subir|compartir|pasar|difundir) (?:tus|las|todas tus|todas las) (?:fotos|videos?|capturas)",
            r"(?:tus padres|tus amigos|todos|toda tu clase|tu colegio|tu escuela|tu familia) (?:van a ver|veran|van a recibir|recibiran) (?:las|tus|todo)",
            r"(?:vou|vo) (?:mandar|enviar|postar|espalhar|vazar|publicar) (?:as|suas|tuas|todas as) (?:fotos|videos?|prints)",
            r"(?:todo mundo|seus pais|teus pais|sua familia|sua escola|teus amigos|seus amigos) (?:vai|vao) (?:ver|receber) (?:as|suas|tudo)",
            r"(?:mando|invio|pubblico|giro|condivido|mandero|inviero) (?:le tue|tutte le tue|le|queste) (?:foto|video)\b.{0,40}(?:amici|genitori|scuola|tutti|famiglia|classe)",
            r"(?:tutti|i tuoi genitori|i tuoi amici|la tua scuola|la tua classe) (?:vedranno|riceveranno) (?:le|tutto|le tue)",
            r"(?:ich schicke|ich schick|ich verschicke|ich poste|ich teile|ich veroffentliche) (?:deine|die|alle deine|alle) (?:fotos|bilder|videos?)",
            r"(?:alle|deine eltern|deine freunde|deine schule|deine klasse) (?:werden|wird) (?:die |deine )?(?:fotos|bilder|videos?|alles) (?:sehen|bekommen)",
            r"(?:ghadi|ghan|n|gha) ?(?:nsift|nseft|nlo7|npartagi|nnacher)\b.{0,30}(?:tsawer|tswar|photos|videos?|lfidyo)",
        ]),
    ],
    Category.DEEPFAKE_THREAT: [
        (1.0, [
            r"\bdeep ?fakes?\b",
            r"(?:make|create|generate|do|edit|faire|fabriquer|creer|generer|hacer|crear|fazer|criar|fare|creare|machen|erstellen) "
            r"(?:some |des |de |unas |umas |delle |ein paar )?(?:fake |fausses? |falsas? |finte |gefalschte )?(?:pics|photos|images|nudes|fotos|foto|bilder|videos?)\b"
            r".{0,40}\b(?:ai|ia|ki|an app|une appli?|una app|um app)\b",
            r"(?:with|avec|con|com|mit) (?:ai|l'? ?ia|la ia|a ia|l'? ?ai|ki)\b.{0,40}(?:pics|photos|images|fotos|foto|bilder|videos?)",
        ]),
        (0.6, [r"(?:fake|fausses?|truquees?|falsas?|falsificadas?|finte|gefalschte) (?:pics|photos|images|nudes|fotos|foto|bilder)"]),
    ],
    Category.LIVESTREAM_COMMISSIONING: [
        (1.0, [
            r"(?:private|prive|privee|privado|privada|privata|privat|special|speciale) (?:live|show|session|stream|cam|sesion|sessao|sessione)\b.{0,60}"
            r"(?:kid|kids|child|girl|boy|little one|petite?|gamine?|enfant|gosse|nina|nino|crianca|menina|menino|bambin[ao]|ragazzin[ao]|madchen|junge|kind)\b",
            r"(?:kid|kids|child|girl|boy|little one|petite?|gamine?|enfant|nina|nino|crianca|menina|menino|bambin[ao]|ragazzin[ao]|madchen|junge|kind)\b.{0,60}"
            r"(?:private|prive|privee|privado|privada|privata|privat) (?:live|show|session|stream|cam)\b",
        ]),
    ],
}  # fmt: skip

# Words that make a match benign when they appear in the same message.
SUPPRESSORS: dict[Category, str] = {
    Category.SECRECY: r"surprise|anniv|birthday|cadeau|present|gift|party|fete|spoiler|la fin\b|"
    r"the ending|reponses? du|answers? to the|controle|quiz",
    Category.IMAGE_REQUEST: r"(?:photo|photos|pic|pics|picture|pictures|image|tof|screen|screenshot|scan)s? "
    r"(?:of|de|du|des|d'? ?) ?(?:the|your|ur|my|this|that|these|ton|ta|tes|la|le|l'? ?|mon|ma|mes|ce|cette|ces)"
    r"\b ?(?!corps|visage|body|face|tenue|outfit|toi|you|self)\w|devoirs?|homework|exercices?|exercise|worksheet|feuille|cahier|copie|"
    r"bulletin|emploi du temps|schedule|timetable|board|tableau|recu|receipt|ticket|page|livre|book|"
    r"lecon|lesson|chien|dog|chat\b|cat\b|equipe|team|trophy|coupe|paysage|menu|formulaire|form\b|"
    r"permission|autorisation|carnet|vacances|holiday|mamie|grandma|papi|grandpa|gateau|cake|"
    r"classement|score|screen du jeu|build|base|map|setup|skin|inventaire|inventory|medaille|medal|"
    r"arrive|arrivee|when you get|when you land|quand t'? ?es|quand tu es|atterri|certificat|medical|"
    r"ordonnance|licence|license|attestation|document|papiers|passe?port|id card|carte d'? ?identite|"
    r"report card|grades|notes\b|results|resultats",
    Category.MEETING_REQUEST: r"entrainement|training|practice|match|dentiste|dentist|medecin|doctor|"
    r"mamie|grandma|papi|grandpa|tata|tonton|aunt|uncle|repetition|rehearsal|tournoi|tournament|"
    r"conservatoire|piscine|gymnase|stade|coach|orthodontiste",
    Category.CAMERA_REQUEST: r"mamie|grandma|papi|grandpa|tata|tonton|aunt|uncle|cousin|"
    r"classe|class|cours|lesson|prof|teacher",
    Category.SUPERVISION_PROBING: r"arrive|je rentre|(?:i'?ll|she'?ll|he'?ll|will) be (?:there|home|back)|"
    r"on (?:my|her|his|the) way|en route|dans \d+ ?min|in \d+ ?min|dis a ta mere|"
    r"tell your (?:mom|mum|dad)|m'? ?appeler|call me|coming home|je passe|pour le diner",
    Category.FLATTERY: r"ma puce|mon coeur|ma cherie|mon cheri|sweetie|sweetheart|kiddo|mon grand|ma grande",
    Category.GIFT_OFFER: r"bonne note|good grade|ton anniv|your birthday|noel|christmas",
    Category.PAYMENT_DEMAND: r"(?:i'?ll|i will|i can|i could|je t'? ?|je te |je peux t'? ?)(?:send|give|buy|get|"
    r"envoie|offre|achete|donne|paie)|cantine|lunch|ticket|sortie scolaire|school trip|loyer|rent|"
    r"la facture|the bill|sandwich|pizza",
    Category.PRESSURE: r"bus|train|ecole|school|cours|class|devoirs?|homework|diner|dinner",
}


def compiled() -> list[Pattern]:
    """All patterns, compiled once."""
    out: list[Pattern] = []
    for table in (RAW, OTHER_LANGUAGES):
        for category, groups in table.items():
            for strength, alternatives in groups:
                out.append(Pattern(category, strength, _c(*alternatives)))
    return out


def compiled_suppressors() -> dict[Category, re.Pattern[str]]:
    return {cat: re.compile(r"\b(?:" + words + r")") for cat, words in SUPPRESSORS.items()}
